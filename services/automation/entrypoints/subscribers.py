"""Topic -> handler registration for automation, in one visible place."""

from __future__ import annotations

from contracts.topics import DOCUMENTS_EVENTS, EVENT_TOPICS, PORTAL_EVENTS, TASKS_EVENTS, Groups
from services.automation.delivery import Webhooks
from services.automation.domain import TRIGGERS
from services.automation.handlers import Automation
from services.automation.webhooks import SUBSCRIBABLE
from services.runtime.consumer import Consumer
from services.runtime.staff_auth import StaffKeys

LEARNED = ("task.created", "task.updated", "task.action_requested")


def consumers(automation: Automation, webhooks: Webhooks, staff_keys: StaffKeys) -> list[Consumer]:
    handlers = {t: automation.react for t in TRIGGERS}
    handlers.update({t: automation.learn for t in LEARNED})
    handlers["task.phase_changed"] = automation.on_phase_changed
    return [
        Consumer(
            group=Groups.AUTOMATION, topics=(TASKS_EVENTS, PORTAL_EVENTS, DOCUMENTS_EVENTS),
            description="Keeps the task phases rules test, and runs the tenant's rules on each trigger event.",
            handlers=handlers,
        ),
        Consumer(
            group=Groups.AUTOMATION_WEBHOOKS, topics=EVENT_TOPICS,
            description="Queues a signed webhook delivery for each endpoint subscribed to the event's type.",
            handlers={t: webhooks.fan_out for t in sorted(SUBSCRIBABLE)}, wants=webhooks.subscribed,
        ),
        staff_keys.projection("automation"),
    ]
