"""The portal's settings: real secrets and Secure cookies outside development."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from services.portal.config import Settings


def test_outside_development_the_placeholder_link_secret_is_refused(monkeypatch):
    monkeypatch.setenv("AKKOORD_ENV", "production")
    monkeypatch.setenv("AKKOORD_INTERNAL_TOKEN", "i" * 40)
    monkeypatch.setenv("AKKOORD_SMTP_URL", "smtp://mailer:pw@mail.example.com:587")
    monkeypatch.delenv("AKKOORD_PORTAL_LINK_SECRET", raising=False)
    with pytest.raises(ValidationError, match="AKKOORD_PORTAL_LINK_SECRET"):
        Settings()


def test_session_cookies_are_secure_outside_development(monkeypatch):
    monkeypatch.setenv("AKKOORD_ENV", "production")
    monkeypatch.setenv("AKKOORD_INTERNAL_TOKEN", "i" * 40)
    monkeypatch.setenv("AKKOORD_SMTP_URL", "smtp://mailer:pw@mail.example.com:587")
    monkeypatch.setenv("AKKOORD_PORTAL_LINK_SECRET", "l" * 40)
    assert Settings().secure_cookies
    monkeypatch.setenv("AKKOORD_ENV", "development")
    assert not Settings().secure_cookies


def test_outside_development_the_portal_refuses_to_start_without_a_mail_server(monkeypatch):
    monkeypatch.setenv("AKKOORD_ENV", "production")
    monkeypatch.setenv("AKKOORD_INTERNAL_TOKEN", "i" * 40)
    monkeypatch.setenv("AKKOORD_PORTAL_LINK_SECRET", "l" * 40)
    monkeypatch.delenv("AKKOORD_SMTP_URL", raising=False)
    with pytest.raises(ValidationError, match="AKKOORD_SMTP_URL"):
        Settings()
