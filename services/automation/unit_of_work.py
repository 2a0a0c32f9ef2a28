"""What automation's handlers work through: rules, webhooks, and the transaction of the work."""

from __future__ import annotations

from dataclasses import dataclass

from services.automation.adapters.mongo import RuleStore
from services.automation.config import Settings
from services.automation.delivery import Webhooks
from services.runtime import service
from services.runtime.staff_auth import StaffKeys


@dataclass(kw_only=True)
class UnitOfWork(service.UnitOfWork):
    settings: Settings
    store: RuleStore
    staff_keys: StaffKeys
    webhooks: Webhooks  # endpoints, their deliveries and the sender that works through them
