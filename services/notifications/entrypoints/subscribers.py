"""Topic -> handler registration for notifications, in one visible place."""

from __future__ import annotations

from contracts import messages as m
from contracts.topics import Groups
from services.notifications.handlers import HANDLED, handle
from services.notifications.unit_of_work import UnitOfWork
from services.runtime.acceptance import SUBMITTED, on_acceptance
from services.runtime.consumer import Consumer
from services.runtime.registry import Handlers
from services.runtime.service import handlers

# A signing or a decline is mailed about once tasks accepted it (task.action_completed / task.action_declined
# carries it), never on the portal's event alone: one for a cancelled action is refused.
HANDLERS = Handlers[UnitOfWork]().on_each([c for c in HANDLED if c not in SUBMITTED], handle)
ACCEPTED = Handlers[UnitOfWork]().on_each([c for c in HANDLED if c in SUBMITTED], handle)


def consumers(uow: UnitOfWork) -> list[Consumer]:
    table = handlers(uow, HANDLERS)
    table |= on_acceptance(handlers(uow, ACCEPTED), completed=table)
    return [
        Consumer(
            group=Groups.NOTIFICATIONS,
            topics=m.topics_of(table),
            description="Keeps the contacts, tenants and actions the mails need, and decides each mail (to the "
            "contact or to staff) in the transaction of the event that causes it.",
            handlers=table,
        ),
        uow.staff_keys.projection("notifications"),
    ]
