"""Topic -> handler registration for notifications, in one visible place."""

from __future__ import annotations

from contracts.topics import DOCUMENTS_EVENTS, PORTAL_EVENTS, SIGNING_EVENTS, TASKS_EVENTS, Groups
from services.notifications.adapters.mongo import NotificationStore
from services.notifications.handlers import HANDLED, unit_of_work
from services.runtime.consumer import Consumer
from services.runtime.staff_auth import StaffKeys


def consumers(store: NotificationStore, staff_keys: StaffKeys) -> list[Consumer]:
    handler = unit_of_work(store)
    return [
        Consumer(
            group=Groups.NOTIFICATIONS, topics=(TASKS_EVENTS, PORTAL_EVENTS, SIGNING_EVENTS, DOCUMENTS_EVENTS),
            description="Keeps the contacts, tenants and actions the mails need, and decides each mail (to the "
                        "contact or to staff) in the transaction of the event that causes it.",
            handlers={message.model_fields["type"].default: handler for message in HANDLED},
        ),
        staff_keys.projection("notifications"),
    ]
