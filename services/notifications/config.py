from __future__ import annotations

from typing import ClassVar

from pydantic import Field
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
    # The staff console's page of a task, e.g. https://app.example.com/console/tasks/{task_id}; unset: no link.
    console_task_url: str | None = None

    secret_fields: tuple[str, ...] = ("internal_token", "portal_link_secret")
