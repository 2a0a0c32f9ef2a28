"""Topic -> handler registration for automation, in one visible place."""

from __future__ import annotations

from contracts import messages as m
from contracts.topics import Groups
from services.automation import handlers as h
from services.automation import webhook_handlers as wh
from services.automation.domain import TRIGGERS
from services.automation.unit_of_work import UnitOfWork
from services.runtime.acceptance import SUBMITTED, on_acceptance, wants_acceptance
from services.runtime.consumer import Consumer
from services.runtime.registry import Handlers
from services.runtime.service import handlers

# What rules test besides the trigger: the task's phase and each action's request.
LEARNED = (m.TaskCreated, m.TaskUpdated, m.TaskActionRequested)
_TRIGGERS = [m.BY_TYPE[t] for t in TRIGGERS]

# A signing or a decline triggers rules, and reaches webhooks, once tasks accepted it (task.action_completed /
# task.action_declined carries it), never on the portal's event alone: one for a cancelled action is refused
# and runs no rule.
RULES = (
    Handlers[UnitOfWork]()
    .on_each([t for t in _TRIGGERS if t not in SUBMITTED], h.react)
    .on_each(LEARNED, h.learn)
    .on(m.TaskPhaseChanged, h.on_phase_changed)
)
RULES_ACCEPTED = Handlers[UnitOfWork]().on_each([t for t in _TRIGGERS if t in SUBMITTED], h.react)
WEBHOOKS = Handlers[UnitOfWork]().on_each([t for t in m.WEBHOOK_MESSAGES if t not in SUBMITTED], wh.fan_out)
WEBHOOKS_ACCEPTED = Handlers[UnitOfWork]().on_each(SUBMITTED, wh.fan_out)


def consumers(uow: UnitOfWork) -> list[Consumer]:
    rules = handlers(uow, RULES)
    rules |= on_acceptance(handlers(uow, RULES_ACCEPTED), completed=rules)
    delivered = handlers(uow, WEBHOOKS)
    delivered |= on_acceptance(handlers(uow, WEBHOOKS_ACCEPTED), completed=delivered)
    return [
        Consumer(
            group=Groups.AUTOMATION,
            topics=m.topics_of(rules),
            description="Keeps the task phases rules test, and runs the tenant's rules on each trigger event.",
            handlers=rules,
        ),
        Consumer(
            group=Groups.AUTOMATION_WEBHOOKS,
            topics=m.topics_of(delivered),
            description="Queues a signed webhook delivery for each endpoint subscribed to the event's type "
            "(a signing or decline once tasks accepted it).",
            handlers=delivered,
            wants=wants_acceptance(lambda event: wh.subscribed(event, uow)),
        ),
        uow.staff_keys.projection("automation"),
    ]
