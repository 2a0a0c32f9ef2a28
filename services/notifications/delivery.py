"""The sender loop: claim a due notification, render it with a fresh magic link, hand it to SMTP, record
the outcome. A deferral (server away, 4xx) is tried again with exponential backoff until the give-up time;
a refusal (5xx, an address that cannot be one) fails at once. The claim counts the attempt; one that ends the
process (killed, out of memory, a crash in native code) leaves its claim to lapse, and the claim after the
lease records it as a failed attempt and schedules the next by the same backoff, or fails the mail at the
give-up time. So a crash after the SMTP server took the mail sends it at most once more, and a mail whose
attempts kill the process is given up in time, never lost silently nor retried forever."""

from __future__ import annotations

import asyncio
import hashlib
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.headerregistry import Address
from email.utils import parseaddr

import httpx
from prometheus_client import Counter

from contracts import portal_link, utcnow
from contracts.errors import PermanentFailure
from services.notifications.adapters.mongo import NotificationStore
from services.notifications.domain import Notification, RetryPolicy, next_attempt
from services.notifications.render import render
from services.runtime.internal_http import InternalFetcher
from services.runtime.mail import MailDeferred, MailRefused, SmtpSender, address, compose

log = logging.getLogger(__name__)
MAILS = Counter(
    "akkoord_notifications_total", "Notification mails by kind and outcome", ["kind", "outcome"]
)  # sent | deferred | failed
LINKED = ("action_requested", "action_reminder", "proof")  # mails whose button signs the contact in
LOST = "the attempt did not finish: the process ended during it, or could not record its outcome"


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


@dataclass
class Proofs:
    """The sealed PDF of a thank-you mail, read from signing by the URL its event named, when small enough."""

    fetcher: InternalFetcher
    max_bytes: int

    async def attachment(self, n: Notification) -> tuple[str, str, bytes] | None:
        url = n.facts.get("pdf_url")
        if n.kind != "proof" or not self.max_bytes or not isinstance(url, str):
            return None
        try:
            data = await self.fetcher.get(url, max_bytes=self.max_bytes)
        except (PermanentFailure, httpx.HTTPError) as exc:  # too large, gone, or signing away: the link suffices
            log.info("notification %s goes without its PDF: %s", n.id, exc)
            return None
        return f"{str(n.facts.get('proof') or 'proof').replace('_', '-')}.pdf", "application/pdf", data


@dataclass
class Delivery:
    store: NotificationStore
    sender: SmtpSender
    links: Links
    policy: RetryPolicy
    proofs: Proofs | None = None
    poll_interval: float = 1.0
    lease: timedelta = timedelta(seconds=120)
    # One attempt as a whole (the proof's fetch, the SMTP conversation): shorter than the lease, so no attempt
    # is still going when the next claim counts it as lost.
    attempt_timeout: float = 30.0

    async def deliver_due(self) -> int:
        done = 0
        while (claim := await self.store.claim_due(utcnow(), self.lease)) is not None:
            if claim.unfinished_since is not None:
                await self._record_lost(claim.notification, claim.unfinished_since)
            else:
                await self.attempt(claim.notification)
            done += 1
        return done

    async def attempt(self, n: Notification) -> None:
        """One attempt at a claimed notification (its count includes this one)."""
        try:
            async with asyncio.timeout(self.attempt_timeout):
                await self.sender.send(await self._message(n))
        except MailRefused as refused:
            await self._finish(n, "failed", refused.reason)
        except MailDeferred as deferred:
            await self._defer(n, deferred.reason)
        except TimeoutError:
            await self._defer(n, f"the attempt took longer than {self.attempt_timeout:g} s")
        except Exception as exc:  # a fault of ours (a template, say): retried like an outage, then failed
            log.exception("notification %s could not be prepared", n.id)
            await self._defer(n, f"{type(exc).__name__}: {exc}"[:500])
        else:
            await self._finish(n, "sent", None)

    async def _record_lost(self, n: Notification, started_at: datetime) -> None:
        """The previous attempt was counted when claimed but its outcome never recorded: the process ended
        during it (or lost the database). It failed like any other, and the schedule says when to try again, if
        at all; this claim sends nothing, so a mail whose attempts end the process is given up in time."""
        log.warning("notification %s: the attempt started at %s did not finish", n.id, started_at.isoformat())
        await self._defer(n, LOST, attempts=n.attempt_count - 1, attempted=False)

    async def _defer(self, n: Notification, reason: str, attempts: int | None = None, attempted: bool = True) -> None:
        retry_at = next_attempt(self.policy, n.created_at, n.attempt_count if attempts is None else attempts, utcnow())
        if retry_at is None:
            await self._finish(n, "failed", f"gave up: {reason}", attempted=attempted)
            return
        MAILS.labels(n.kind, "deferred").inc()
        log.warning("notification %s deferred until %s: %s", n.id, retry_at.isoformat(), reason)
        await self.store.record(
            n.id, status="pending", error=reason, next_attempt_at=retry_at, now=utcnow(), attempted=attempted
        )

    async def _finish(self, n: Notification, status: str, error: str | None, attempted: bool = True) -> None:
        MAILS.labels(n.kind, status).inc()
        if error:
            log.warning("notification %s failed: %s", n.id, error)
        await self.store.record(
            n.id, status=status, error=error, next_attempt_at=None, now=utcnow(), attempted=attempted
        )

    async def _message(self, n: Notification):
        brand = await self.store.brand(n.tenant_id)
        prefs = await self.store.prefs_of(n.tenant_id)
        attachment = await self.proofs.attachment(n) if self.proofs else None
        # The contact's link generation as known now: a link minted after staff revoked the contact's links is
        # a new one and must work, whatever the generation was when the mail was decided.
        generation = n.recipient.link_generation
        if n.recipient.contact_id and (known := await self.store.contact(n.tenant_id, n.recipient.contact_id, None)):
            generation = max(generation, known.link_generation)
        mail = render(n, brand, link=self.links.of(n, generation), attached=attachment is not None)
        own = address(parseaddr(self.sender.sender)[1])
        sender = str(Address(display_name=brand.name, username=own.username, domain=own.domain))
        return compose(
            sender=sender,
            to=address(n.recipient.email, n.recipient.name),
            subject=mail.subject,
            text=mail.text,
            html=mail.html,
            reply_to=prefs.reply_to,
            headers={"Auto-Submitted": "auto-generated", "X-Akkoord-Notification": n.kind},
            attachments=(attachment,) if attachment else (),
        )

    async def run(self) -> None:
        while True:
            try:
                attempted = await self.deliver_due()
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # the database away: mails wait; the claim after the lease counts the attempt
                log.warning("notification delivery paused: %s", exc)
                attempted = 0
            if not attempted:
                await asyncio.sleep(self.poll_interval)
