from __future__ import annotations

from typing import ClassVar, Self

from pydantic import Field, model_validator
from pydantic_settings import SettingsConfigDict

from services.runtime.config import DEV_SECRET, ServiceSettings


class Settings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="NOTIFICATIONS_", extra="ignore")
    sends_mail: ClassVar[bool] = True

    port: int = 8006
    database: str = "akkoord_notifications"
    # Mails carry magic links signed like tasks' (the portal redeems both the same way).
    portal_link_secret: str = Field(DEV_SECRET, validation_alias="AKKOORD_PORTAL_LINK_SECRET", repr=False)
    link_ttl_minutes: int = Field(7 * 24 * 60, gt=0)
    # A mail that cannot be handed over is tried again with exponential backoff, each wait capped, then failed.
    retry_base_seconds: float = Field(10.0, gt=0)
    retry_max_delay_seconds: float = Field(600.0, gt=0)
    give_up_after_seconds: float = Field(24 * 3600.0, gt=0)
    poll_seconds: float = Field(1.0, gt=0)
    smtp_timeout_seconds: float = Field(20.0, gt=0)
    # The thank-you mail carries the sealed PDF when it is at most this large (0: never; the link always).
    attach_proof_max_bytes: int = Field(2 * 1024 * 1024, ge=0)
    fetch_timeout_seconds: float = Field(10.0, gt=0)
    # How long a claimed mail is left to its attempt (the proof's fetch and the send, each within its timeout);
    # past it the attempt counts as failed (the process ended during it) and a restart or another replica
    # takes the mail up again. Longer than an attempt, or a slow one would be counted lost and sent twice.
    lease_seconds: float = Field(120.0, gt=0)
    # The staff console's page of a task, e.g. https://app.example.com/console/tasks/{task_id}; unset: no link.
    console_task_url: str | None = None

    secret_fields: tuple[str, ...] = ("internal_token", "portal_link_secret")

    @property
    def attempt_timeout_seconds(self) -> float:
        """One attempt as a whole: the sealed PDF's fetch, then the SMTP conversation."""
        return self.fetch_timeout_seconds + self.smtp_timeout_seconds

    @model_validator(mode="after")
    def _lease_outlasts_an_attempt(self) -> Self:
        if self.lease_seconds <= self.attempt_timeout_seconds:
            raise ValueError(
                "NOTIFICATIONS_LEASE_SECONDS must be longer than NOTIFICATIONS_FETCH_TIMEOUT_SECONDS + "
                "NOTIFICATIONS_SMTP_TIMEOUT_SECONDS (a lease that ends during an attempt counts it as lost and "
                "lets a second one send the mail again)"
            )
        return self
