"""What automation's handlers work through: rules, webhooks, and the transaction of the work."""

from __future__ import annotations

from dataclasses import dataclass

from services.automation.adapters.mongo import RuleStore
from services.automation.adapters.webhook_sender import WebhookSender
from services.automation.adapters.webhook_store import WebhookStore
from services.automation.config import Settings
from services.runtime import service
from services.runtime.staff_auth import StaffKeys


@dataclass(kw_only=True)
class UnitOfWork(service.UnitOfWork):
    settings: Settings
    store: RuleStore
    staff_keys: StaffKeys
    webhooks: WebhookStore  # endpoints and their deliveries
    sender: WebhookSender  # one signed request to an endpoint
