"""Topic -> handler registration for notifications, in one visible place."""

from __future__ import annotations

from contracts import messages as m
from contracts.topics import Groups
from services.notifications.adapters.mongo import NotificationStore
from services.notifications.handlers import HANDLED, unit_of_work
from services.runtime.acceptance import SUBMITTED, on_acceptance
from services.runtime.consumer import Consumer, Handler
from services.runtime.staff_auth import StaffKeys


def consumers(store: NotificationStore, staff_keys: StaffKeys) -> list[Consumer]:
    handle = unit_of_work(store)
    # A signing is mailed about once tasks accepted it (task.action_completed carries it), never on the portal's
    # event alone: a signing of a cancelled action is refused.
    handlers: dict[type[m.Envelope], Handler] = {c: handle for c in HANDLED if c not in SUBMITTED}
    handlers.update(on_acceptance({c: handle for c in HANDLED if c in SUBMITTED},
                                  completed=handlers.get(m.TaskActionCompleted)))
    return [
        Consumer(
            group=Groups.NOTIFICATIONS, topics=m.topics_of(handlers),
            description="Keeps the contacts, tenants and actions the mails need, and decides each mail (to the "
                        "contact or to staff) in the transaction of the event that causes it.",
            handlers=handlers,
        ),
        staff_keys.projection("notifications"),
    ]
