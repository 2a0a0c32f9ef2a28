"""The link a mail's button carries: a signed magic link into the portal for the contact, the console's page
of the task for staff."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import timedelta

from contracts import portal_link, utcnow
from services.notifications.domain import Notification

LINKED = ("action_requested", "action_reminder", "proof")  # mails whose button signs the contact in


@dataclass
class Links:
    portal_url: str
    secret: str
    ttl: timedelta
    console_task_url: str | None = None

    def for_contact(self, n: Notification, generation: int) -> str | None:
        if n.kind not in LINKED or not n.recipient.contact_id:
            return None
        # One link per mail (its id derives from the notification): however often the mail goes out, it opens
        # one session. The portal checks signature, expiry and single use exactly as for tasks' links.
        link = portal_link.PortalLink(
            link_id=hashlib.sha256(n.id.encode()).hexdigest()[:32],
            tenant_id=n.tenant_id,
            contact_id=n.recipient.contact_id,
            expires_at=utcnow() + self.ttl,
            task_id=n.task_id,
            generation=generation,
        )
        return f"{self.portal_url.rstrip('/')}/login?token={portal_link.sign(self.secret, link)}"

    def for_staff(self, n: Notification) -> str | None:
        if not self.console_task_url or not n.task_id:
            return None
        return self.console_task_url.format(task_id=n.task_id)

    def of(self, n: Notification, generation: int = 0) -> str | None:
        return self.for_staff(n) if n.kind.startswith("staff_") else self.for_contact(n, generation)
