from __future__ import annotations

from pydantic_settings import SettingsConfigDict

from services.runtime.config import ServiceSettings


class Settings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="AUTOMATION_", extra="ignore")

    port: int = 8005
    database: str = "akkoord_automation"
    rule_run_retention_days: int = 90
    # Webhook deliveries: exponential backoff from the base, each wait capped, then given up (failed).
    webhook_retry_base_seconds: float = 5.0
    webhook_max_delay_seconds: float = 3600.0
    webhook_give_up_after_seconds: float = 3 * 24 * 3600.0
    webhook_timeout_seconds: float = 10.0
    webhook_poll_seconds: float = 1.0
