"""Topic -> handler registration for automation, in one visible place."""

from __future__ import annotations

from contracts import messages as m
from contracts.topics import Groups
from services.automation.delivery import Webhooks
from services.automation.domain import TRIGGERS
from services.automation.handlers import Automation
from services.automation.webhooks import SUBSCRIBABLE_MESSAGES
from services.runtime.consumer import Consumer, Handler
from services.runtime.staff_auth import StaffKeys

# What rules test besides the trigger: the task's phase and each action's request.
LEARNED = (m.TaskCreated, m.TaskUpdated, m.TaskActionRequested)


def consumers(automation: Automation, webhooks: Webhooks, staff_keys: StaffKeys) -> list[Consumer]:
    handlers: dict[type[m.Envelope], Handler] = {m.BY_TYPE[t]: automation.react for t in TRIGGERS}
    handlers.update(dict.fromkeys(LEARNED, automation.learn))
    handlers[m.TaskPhaseChanged] = automation.on_phase_changed
    return [
        Consumer(
            group=Groups.AUTOMATION, topics=m.topics_of(handlers),
            description="Keeps the task phases rules test, and runs the tenant's rules on each trigger event.",
            handlers=handlers,
        ),
        Consumer(
            group=Groups.AUTOMATION_WEBHOOKS, topics=m.topics_of(SUBSCRIBABLE_MESSAGES),
            description="Queues a signed webhook delivery for each endpoint subscribed to the event's type.",
            handlers=dict.fromkeys(SUBSCRIBABLE_MESSAGES, webhooks.fan_out), wants=webhooks.subscribed,
        ),
        staff_keys.projection("automation"),
    ]
