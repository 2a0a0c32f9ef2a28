"""The tasks service's settings: the shared infrastructure ones plus its own secrets and timings."""

from __future__ import annotations

from typing import ClassVar

from pydantic import Field, model_validator
from pydantic_settings import SettingsConfigDict

from services.runtime.config import DEV_SECRET, ServiceSettings


class Settings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="TASKS_", extra="ignore")

    port: int = 8001
    database: str = "akkoord_tasks"
    # The operator (whoever runs Akkoord) registers tenants with this key.
    operator_key: str = Field(DEV_SECRET, repr=False)
    # Shared with the portal, which verifies the magic-link tokens tasks signs.
    portal_link_secret: str = Field(DEV_SECRET, validation_alias="AKKOORD_PORTAL_LINK_SECRET", repr=False)
    portal_link_ttl_minutes: int = Field(24 * 60, gt=0)
    # `seed-demo` uses this as the demo tenant's staff key when set.
    demo_staff_key: str | None = Field(None, validation_alias="AKKOORD_DEMO_STAFF_KEY", repr=False)
    # How long a POST's Idempotency-Key is remembered.
    idempotency_retention_hours: int = Field(7 * 24, gt=0)
    expiry_interval_seconds: float = Field(5.0, gt=0)
    # How long an action request waits for a just-uploaded document to reach tasks' projection.
    document_wait_seconds: float = Field(5.0, ge=0)

    # The staff console (served here under /console/): its public address, for links in mails.
    console_url: str = Field("", validation_alias="AKKOORD_CONSOLE_URL")  # default: AKKOORD_TASKS_URL + /console
    console_idle_minutes: float = Field(30, gt=0)
    console_session_hours: float = Field(12, gt=0)
    console_invitation_hours: float = Field(72, gt=0)
    console_reset_minutes: float = Field(60, gt=0)
    # Failed sign-ins allowed per account and per client address in a sliding window (in-process, per replica);
    # an office behind one address gets more than one person does.
    console_login_attempts: int = Field(5, gt=0)
    console_login_attempts_per_ip: int = Field(30, gt=0)
    console_login_window_seconds: float = Field(300, gt=0)
    # `seed-demo` gives the demo tenant a staff user with these credentials.
    demo_staff_email: str = Field("staff@demo.example", validation_alias="AKKOORD_DEMO_STAFF_EMAIL")
    demo_staff_password: str | None = Field(None, validation_alias="AKKOORD_DEMO_STAFF_PASSWORD", repr=False)

    secret_fields: tuple[str, ...] = ("internal_token", "operator_key", "portal_link_secret")
    # The console mails invitations, password resets and portal links (AKKOORD_SMTP_URL).
    sends_mail: ClassVar[bool] = True

    # A PDF uploaded through the console (documents' own limit, 25 MB, plus the form's framing).
    console_max_upload_bytes: int = Field(25 * 1024 * 1024, gt=0)

    @property
    def route_body_limits(self) -> dict[str, int]:
        upload = self.console_max_upload_bytes + 64 * 1024
        return {"/console/documents": upload, "/console/documents/{document_id}/versions": upload}

    @property
    def secure_cookies(self) -> bool:
        return self.environment != "development"

    @model_validator(mode="after")
    def _console_url_defaults_to_tasks(self):
        if not self.console_url:
            self.console_url = self.tasks_url.rstrip("/") + "/console"
        return self
