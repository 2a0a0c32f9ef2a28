from __future__ import annotations

from typing import Self

from pydantic import Field, model_validator
from pydantic_settings import SettingsConfigDict

from services.automation.addresses import IPNetwork, parse_networks
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
    # One attempt as a whole (resolve, connect, send, the answer's headers and its first KB) must fit in this.
    webhook_timeout_seconds: float = 10.0
    webhook_poll_seconds: float = 1.0
    # How long a claimed delivery is left to its attempt; past it, the attempt counts as failed (the process
    # ended during it) and another replica or a restart takes the delivery up again. Longer than an attempt.
    webhook_lease_seconds: float = 60.0
    webhook_max_response_bytes: int = 4096  # read of an answer at most; only its status counts
    webhook_concurrency: int = Field(16, ge=1)  # attempts at once, in all
    webhook_tenant_concurrency: int = Field(2, ge=1)  # attempts at once for one tenant
    # Networks webhooks may reach besides public addresses, e.g. "127.0.0.0/8,::1" for receivers on a
    # developer's machine; empty (the default) sends only to public addresses.
    webhook_allow_networks: str = ""

    @model_validator(mode="after")
    def _lease_outlasts_an_attempt(self) -> Self:
        if self.webhook_lease_seconds <= self.webhook_timeout_seconds:
            raise ValueError(
                "AUTOMATION_WEBHOOK_LEASE_SECONDS must be longer than AUTOMATION_WEBHOOK_TIMEOUT_SECONDS "
                "(a lease that ends during an attempt counts it as lost and lets a second one start)"
            )
        return self

    @property
    def webhook_allowed_networks(self) -> tuple[IPNetwork, ...]:
        return parse_networks(self.webhook_allow_networks)
