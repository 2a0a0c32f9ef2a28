from __future__ import annotations

from typing import ClassVar

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from services.runtime.config import DEV_SECRET, ServiceSettings


class Settings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="PORTAL_", extra="ignore")

    port: int = 8000
    database: str = "akkoord_portal"
    # Shared with tasks, which signs the magic links this service redeems.
    portal_link_secret: str = Field(DEV_SECRET, validation_alias="AKKOORD_PORTAL_LINK_SECRET", repr=False)
    session_hours: int = 12
    # Pages show times in this zone (stored times are UTC); most customers are in the Netherlands.
    display_timezone: str = "Europe/Amsterdam"
    max_signature_bytes: int = 512 * 1024
    # The verify page's PDF upload.
    max_verify_upload_bytes: int = 20 * 1024 * 1024
    timeline_timeout_seconds: float = 3.0
    # The signing page's view of a document version (page count, page texts), kept in process per tenant,
    # document, version and digest: at most this many versions and this many characters of text.
    document_view_cache_entries: int = 256
    document_view_cache_chars: int = 20_000_000
    # In-process token buckets (per replica): requests allowed in a burst, and refilled per minute.
    # Login counts refused links per client address; signing counts every change per session.
    login_burst: int = 20
    login_per_minute: int = 10
    signing_burst: int = 20
    signing_per_minute: int = 20

    # Second factor before signing: "*" for every tenant, or a comma-separated list of tenant ids ("" = off).
    # A per-tenant setting announced by tasks would replace this list.
    otp_tenants: str = ""
    otp_minutes: int = 10
    otp_max_attempts: int = 5

    secret_fields: tuple[str, ...] = ("internal_token", "portal_link_secret")
    # The second factor's codes go out through AKKOORD_SMTP_URL (services/runtime/mail.py).
    sends_mail: ClassVar[bool] = True

    @property
    def route_body_limits(self) -> dict[str, int]:
        # A signature travels base64-encoded (4/3 of its bytes) beside its strokes and the form's fields.
        signature = self.max_signature_bytes * 4 // 3 + 1024 * 1024
        return {
            "/api/v1/actions/{action_id}/signature": signature,
            "/actions/{action_id}/sign": signature,
            "/verify": self.max_verify_upload_bytes + 64 * 1024,
        }

    @property
    def own_internal_url(self) -> str:
        """Where other services read what events reference (signature images): the internal address when one
        is set (never through the ingress); otherwise, as in development and tests, the one address it has."""
        if "portal_internal_url" in self.model_fields_set:
            return self.portal_internal_url.rstrip("/")
        return self.portal_url.rstrip("/")

    @property
    def secure_cookies(self) -> bool:
        return self.environment != "development"
