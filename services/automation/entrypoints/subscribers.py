"""Topic -> handler registration for automation, in one visible place."""

from __future__ import annotations

from contracts import messages as m
from contracts.topics import Groups
from services.automation.delivery import Webhooks
from services.automation.domain import TRIGGERS
from services.automation.handlers import Automation
from services.automation.webhooks import SUBSCRIBABLE_MESSAGES
from services.runtime.acceptance import SUBMITTED, on_acceptance, wants_acceptance
from services.runtime.consumer import Consumer, Handler
from services.runtime.staff_auth import StaffKeys

# What rules test besides the trigger: the task's phase and each action's request.
LEARNED = (m.TaskCreated, m.TaskUpdated, m.TaskActionRequested)


def consumers(automation: Automation, webhooks: Webhooks, staff_keys: StaffKeys) -> list[Consumer]:
    triggers = [m.BY_TYPE[t] for t in TRIGGERS]
    # A signing triggers rules once tasks accepted it (task.action_completed carries it), never on the portal's
    # event alone: a signing of a cancelled action is refused and runs no rule.
    handlers: dict[type[m.Envelope], Handler] = {t: automation.react for t in triggers if t not in SUBMITTED}
    handlers.update(dict.fromkeys(LEARNED, automation.learn))
    handlers[m.TaskPhaseChanged] = automation.on_phase_changed
    handlers.update(on_acceptance({t: automation.react for t in triggers if t in SUBMITTED},
                                  completed=handlers.get(m.TaskActionCompleted)))
    delivered: dict[type[m.Envelope], Handler] = {t: webhooks.fan_out for t in SUBSCRIBABLE_MESSAGES
                                                  if t not in SUBMITTED}
    delivered.update(on_acceptance({t: webhooks.fan_out for t in SUBMITTED}, completed=webhooks.fan_out))
    return [
        Consumer(
            group=Groups.AUTOMATION, topics=m.topics_of(handlers),
            description="Keeps the task phases rules test, and runs the tenant's rules on each trigger event.",
            handlers=handlers,
        ),
        Consumer(
            group=Groups.AUTOMATION_WEBHOOKS, topics=m.topics_of(delivered),
            description="Queues a signed webhook delivery for each endpoint subscribed to the event's type "
                        "(a signing once tasks accepted it).",
            handlers=delivered, wants=wants_acceptance(webhooks.subscribed),
        ),
        staff_keys.projection("automation"),
    ]
