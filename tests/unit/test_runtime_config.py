"""Placeholder secrets are refused outside development, by every service."""

from __future__ import annotations

import importlib

import pytest
from pydantic import ValidationError

SERVICES = ("tasks", "portal", "signing", "documents", "timeline", "automation", "notifications")
STRONG = "s3cret-" + "x" * 40


def settings_class(name: str):
    return importlib.import_module(f"services.{name}.config").Settings


@pytest.mark.parametrize("name", SERVICES)
def test_a_production_start_with_placeholder_secrets_is_refused(name, monkeypatch):
    monkeypatch.setenv("AKKOORD_ENV", "production")
    with pytest.raises(ValidationError) as refused:
        settings_class(name)()
    assert "outside development" in str(refused.value)


@pytest.mark.parametrize("name", ("tasks", "portal", "timeline", "automation", "documents", "notifications"))
def test_a_production_start_with_real_secrets_is_accepted(name, monkeypatch):
    for var in ("AKKOORD_INTERNAL_TOKEN", "AKKOORD_PORTAL_LINK_SECRET", "TASKS_OPERATOR_KEY"):
        monkeypatch.setenv(var, STRONG)
    monkeypatch.setenv("AKKOORD_SMTP_URL", f"smtp://mailer:{STRONG}@mail.example.com:587")
    monkeypatch.setenv("AKKOORD_ENV", "production")
    settings = settings_class(name)()
    assert settings.environment == "production"
    assert STRONG not in repr(settings), "secrets never show in a repr (and so in logs)"


@pytest.mark.parametrize("name", SERVICES)
def test_a_start_without_akkoord_env_is_a_production_start_and_refuses_placeholder_secrets(name, monkeypatch):
    monkeypatch.delenv("AKKOORD_ENV", raising=False)
    for var in ("AKKOORD_INTERNAL_TOKEN", "AKKOORD_PORTAL_LINK_SECRET", "TASKS_OPERATOR_KEY"):
        monkeypatch.delenv(var, raising=False)
    with pytest.raises(ValidationError) as refused:
        settings_class(name)()
    assert "AKKOORD_INTERNAL_TOKEN" in str(refused.value), "the refusal names the variable to set"
    assert "AKKOORD_ENV=development" in str(refused.value), "and how to ask for development instead"


def test_a_start_without_akkoord_env_with_real_secrets_is_a_production_start(monkeypatch):
    monkeypatch.delenv("AKKOORD_ENV", raising=False)
    for var in ("AKKOORD_INTERNAL_TOKEN", "AKKOORD_PORTAL_LINK_SECRET", "TASKS_OPERATOR_KEY"):
        monkeypatch.setenv(var, STRONG)
    monkeypatch.setenv("AKKOORD_SMTP_URL", "smtps://mail.example.com")
    settings = settings_class("portal")()
    assert settings.environment == "production"
    assert settings.secure_cookies


def test_development_runs_on_the_embedded_defaults_when_asked_for(monkeypatch):
    for var in ("KAFKA_BOOTSTRAP_SERVERS", "MONGODB_URI"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("AKKOORD_ENV", "development")
    settings = settings_class("timeline")()
    assert settings.kafka_bootstrap_servers == "127.0.0.1:9092"
    assert settings.mongodb_uri.startswith("mongodb://127.0.0.1:27017")
