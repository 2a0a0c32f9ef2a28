"""What notifications' handlers work through: its store, the mail sender and what a mail needs (links, the
proof's PDF, the retry policy, the clock), and the transaction of the work."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Self

from contracts import Envelope, utcnow
from services.notifications.adapters.links import Links
from services.notifications.adapters.mongo import NotificationStore
from services.notifications.adapters.proofs import Proofs
from services.notifications.config import Settings
from services.notifications.domain import Kind, Notification, Recipient, RetryPolicy, notification_id
from services.runtime import service
from services.runtime.mail import SmtpSender
from services.runtime.mongo import Session
from services.runtime.staff_auth import StaffKeys


@dataclass(kw_only=True)
class UnitOfWork(service.UnitOfWork):
    settings: Settings
    store: NotificationStore
    staff_keys: StaffKeys
    sender: SmtpSender
    links: Links  # the button's link: a magic link for the contact, the console's task page for staff
    proofs: Proofs  # the sealed PDF a thank-you mail carries
    policy: RetryPolicy
    clock: Callable[[], datetime]
    # One moment per message: every mail it decides is created (and first due) at the same time.
    now: datetime = field(default_factory=utcnow)

    def bound(self, session: Session) -> Self:
        return replace(self, session=session, now=self.clock())

    async def queue(
        self, event: Envelope, kind: Kind, to: Recipient, facts: dict[str, object], key: str | None = None
    ) -> None:
        await self.store.queue(
            Notification(
                id=notification_id(kind, key or event.event_id, to.email),
                tenant_id=event.tenant_id,
                task_id=event.task_id,
                event_id=event.event_id,
                kind=kind,
                recipient=to,
                facts=facts,
                created_at=self.now,
                next_attempt_at=self.now,
            ),
            self.tx,
        )
