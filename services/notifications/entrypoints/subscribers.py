"""Topic -> handler registration for notifications, in one visible place."""

from __future__ import annotations

from contracts import messages as m
from contracts.topics import Groups
from services.notifications.adapters.mongo import NotificationStore
from services.notifications.handlers import HANDLED, unit_of_work
from services.runtime.consumer import Consumer
from services.runtime.staff_auth import StaffKeys


def consumers(store: NotificationStore, staff_keys: StaffKeys) -> list[Consumer]:
    return [
        Consumer(
            group=Groups.NOTIFICATIONS, topics=m.topics_of(HANDLED),
            description="Keeps the contacts, tenants and actions the mails need, and decides each mail (to the "
                        "contact or to staff) in the transaction of the event that causes it.",
            handlers=dict.fromkeys(HANDLED, unit_of_work(store)),
        ),
        staff_keys.projection("notifications"),
    ]
