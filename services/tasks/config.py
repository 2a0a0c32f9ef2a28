"""The tasks service's settings: the shared infrastructure ones plus its own secrets and timings."""

from __future__ import annotations

from pydantic import Field
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

    secret_fields: tuple[str, ...] = ("internal_token", "operator_key", "portal_link_secret")
