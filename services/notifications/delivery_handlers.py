"""Delivery use cases: one claim of a due notification, rendered with a fresh magic link, handed to SMTP, its
outcome recorded. A deferral (server away, 4xx) is tried again with exponential backoff until the give-up time;
a refusal (5xx, an address that cannot be one) fails at once. The claim counts the attempt; one that ends the
process (killed, out of memory, a crash in native code) leaves its claim to lapse, and the claim after the
lease records it as a failed attempt and schedules the next by the same backoff, or fails the mail at the
give-up time. So a crash after the SMTP server took the mail sends it at most once more, and a mail whose
attempts kill the process is given up in time, never lost silently nor retried forever."""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import parseaddr

from prometheus_client import Counter

from services.notifications.domain import Claim, Notification, next_attempt
from services.notifications.render import render
from services.notifications.unit_of_work import UnitOfWork
from services.runtime.mail import MailDeferred, MailRefused, address, compose

log = logging.getLogger(__name__)
MAILS = Counter(
    "akkoord_notifications_total", "Notification mails by kind and outcome", ["kind", "outcome"]
)  # sent | deferred | failed
LOST = "the attempt did not finish: the process ended during it, or could not record its outcome"


async def deliver(claim: Claim, uow: UnitOfWork) -> None:
    """What a claim calls for: the record of an attempt that never finished, or the next attempt."""
    if claim.unfinished_since is not None:
        await record_lost(claim.notification, claim.unfinished_since, uow)
    else:
        await attempt(claim.notification, uow)


async def attempt(n: Notification, uow: UnitOfWork) -> None:
    """One attempt at a claimed notification (its count includes this one)."""
    timeout = uow.settings.attempt_timeout_seconds
    try:
        async with asyncio.timeout(timeout):
            await uow.sender.send(await _message(n, uow))
    except MailRefused as refused:
        await _finish(n, "failed", refused.reason, uow)
    except MailDeferred as deferred:
        await _defer(n, deferred.reason, uow)
    except TimeoutError:
        await _defer(n, f"the attempt took longer than {timeout:g} s", uow)
    except Exception as exc:  # a fault of ours (a template, say): retried like an outage, then failed
        log.exception("notification %s could not be prepared", n.id)
        await _defer(n, f"{type(exc).__name__}: {exc}"[:500], uow)
    else:
        await _finish(n, "sent", None, uow)


async def record_lost(n: Notification, started_at: datetime, uow: UnitOfWork) -> None:
    """The previous attempt was counted when claimed but its outcome never recorded: the process ended
    during it (or lost the database). It failed like any other, and the schedule says when to try again, if
    at all; this claim sends nothing, so a mail whose attempts end the process is given up in time."""
    log.warning("notification %s: the attempt started at %s did not finish", n.id, started_at.isoformat())
    await _defer(n, LOST, uow, attempts=n.attempt_count - 1, attempted=False)


async def _defer(
    n: Notification, reason: str, uow: UnitOfWork, attempts: int | None = None, attempted: bool = True
) -> None:
    counted = n.attempt_count if attempts is None else attempts
    retry_at = next_attempt(uow.policy, n.created_at, counted, uow.clock())
    if retry_at is None:
        await _finish(n, "failed", f"gave up: {reason}", uow, attempted=attempted)
        return
    MAILS.labels(n.kind, "deferred").inc()
    log.warning("notification %s deferred until %s: %s", n.id, retry_at.isoformat(), reason)
    await uow.store.record(
        n.id, status="pending", error=reason, next_attempt_at=retry_at, now=uow.clock(), attempted=attempted
    )


async def _finish(n: Notification, status: str, error: str | None, uow: UnitOfWork, attempted: bool = True) -> None:
    MAILS.labels(n.kind, status).inc()
    if error:
        log.warning("notification %s failed: %s", n.id, error)
    await uow.store.record(n.id, status=status, error=error, next_attempt_at=None, now=uow.clock(), attempted=attempted)


async def _message(n: Notification, uow: UnitOfWork) -> EmailMessage:
    brand = await uow.store.brand(n.tenant_id)
    prefs = await uow.store.prefs_of(n.tenant_id)
    attachment = await uow.proofs.attachment(n)
    # The contact's link generation as known now: a link minted after staff revoked the contact's links is
    # a new one and must work, whatever the generation was when the mail was decided.
    generation = n.recipient.link_generation
    if n.recipient.contact_id and (known := await uow.store.contact(n.tenant_id, n.recipient.contact_id, None)):
        generation = max(generation, known.link_generation)
    mail = render(n, brand, link=uow.links.of(n, generation), attached=attachment is not None)
    own = address(parseaddr(uow.sender.sender)[1])
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
