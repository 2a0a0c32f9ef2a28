"""Use cases: keep the projections the mails need, and decide each mail in the transaction of its cause.

Every handler is a function of (message, unit of work). The notification record is written with the
consumer's processed mark, so a redelivered event decides nothing twice; its id is derived from the cause
and the recipient, so even a replayed dead letter finds the record already there."""

from __future__ import annotations

from typing import assert_never, get_args

from contracts import Envelope
from contracts import messages as m
from services.notifications.domain import (
    ActionFacts,
    Brand,
    Kind,
    Recipient,
    contact_mail,
    replaced_by,
    staff_mail,
)
from services.notifications.unit_of_work import UnitOfWork

Handled = (
    m.TenantRegistered
    | m.TenantBrandingChanged
    | m.TenantTimeZoneChanged
    | m.ContactRegistered
    | m.ContactUpdated
    | m.DocumentUploaded
    | m.DocumentVersionAdded
    | m.TaskActionRequested
    | m.ActionReminderDue
    | m.ActionExpired
    | m.TaskActionCancelled
    | m.TaskSigned
    | m.DocumentSigned
    | m.ActionDeclined
    | m.SignatureSealed
)
HANDLED: tuple[type[Handled], ...] = get_args(Handled)


async def handle(message: Handled, uow: UnitOfWork) -> None:
    match message:
        case m.TenantRegistered():
            await uow.store.save_tenant(message.tenant_id, _brand(message), uow.tx)
            await uow.store.set_time_zone(message.tenant_id, message.payload.time_zone, uow.tx)
        case m.TenantTimeZoneChanged():
            await uow.store.set_time_zone(message.tenant_id, message.payload.time_zone, uow.tx)
        case m.TenantBrandingChanged():
            p = message.payload
            await uow.store.save_tenant(
                message.tenant_id,
                Brand(name=p.name, **{k: v for k, v in (("logo_url", p.logo_url), ("colour", p.colour)) if v}),
                uow.tx,
            )
        case m.ContactRegistered() | m.ContactUpdated():
            c = message.payload.contact
            await uow.store.save_contact(
                message.tenant_id,
                Recipient(
                    email=c.email,
                    name=c.name,
                    language=c.language,
                    contact_id=c.contact_id,
                    link_generation=message.payload.link_generation,
                ),
                message.payload.archived,
                uow.tx,
            )
        case m.DocumentUploaded() | m.DocumentVersionAdded():
            await uow.store.save_document(message.tenant_id, message.payload.document_id, message.payload.title, uow.tx)
        case m.TaskActionRequested():
            await action_requested(message, uow)
        case m.ActionReminderDue():
            await to_contact(
                message,
                "action_reminder",
                message.payload.action_id,
                uow,
                reminder_number=message.payload.reminder_number,
            )
        case m.ActionExpired():
            await to_contact(message, "action_expired", message.payload.action_id, uow)
            await to_staff(message, "staff_expired", message.payload.action_id, uow)
        case m.TaskActionCancelled():
            await action_cancelled(message, uow)
        case m.TaskSigned() | m.DocumentSigned():
            await to_staff(
                message,
                "staff_signed",
                message.payload.action_id,
                uow,
                signer=message.payload.signer.name,
                signed_at=message.payload.evidence.signed_at,
            )
        case m.ActionDeclined():
            await to_staff(message, "staff_declined", message.payload.action_id, uow, reason=message.payload.reason)
        case m.SignatureSealed():
            # One thank-you per action, whichever seal comes first (a document signing may bring two).
            await to_contact(
                message,
                "proof",
                message.payload.action_id,
                uow,
                key=message.payload.action_id,
                proof=message.payload.kind,
                pdf_url=message.payload.pdf_url,
            )
        case _:
            assert_never(message)


def _brand(event: m.TenantRegistered) -> Brand:
    # Tenant events may come to carry branding (logo, colour) besides the name; until then, the defaults.
    branding = {k: v for k in ("logo_url", "colour") if (v := getattr(event.payload, k, None))}
    return Brand(name=event.payload.name, **branding)


async def action_requested(event: m.TaskActionRequested, uow: UnitOfWork) -> None:
    p = event.payload
    # A console user who asked is told themselves (the actor carries their address); a key or a rule: the tenant.
    actor_email = event.actor.email if event.actor.kind == "staff_user" else None
    facts = ActionFacts(
        action_id=p.action.action_id,
        task_id=p.task.task_id,
        task_title=p.task.title,
        kind=p.action.kind,
        contact_id=p.contact.contact_id,
        document_id=p.action.document_id,
        message=p.action.message,
        expires_at=p.action.expires_at,
        notify=p.action.notify,
        requested_by_email=actor_email,
        requested_by_name=event.actor.name,
    )
    await uow.store.save_action(event.tenant_id, facts, uow.tx)
    contact = Recipient(
        email=p.contact.email, name=p.contact.name, language=p.contact.language, contact_id=p.contact.contact_id
    )
    replaces = await uow.store.replaced(event.tenant_id, facts.action_id, uow.tx)
    await _contact_notification(event, "action_requested", facts, contact, uow, replaces=bool(replaces))


async def action_cancelled(event: m.TaskActionCancelled, uow: UnitOfWork) -> None:
    if successor := replaced_by(event.payload.reason):
        # A replacement: the successor's request mail says it is an updated request; no mail for the cancel.
        await uow.store.note_replacement(event.tenant_id, successor, event.payload.action_id, uow.tx)
        return
    await to_contact(event, "action_cancelled", event.payload.action_id, uow, reason=event.payload.reason)


async def to_contact(
    event: Envelope, kind: Kind, action_id: str, uow: UnitOfWork, key: str | None = None, **extra: object
) -> None:
    action = await uow.store.action(event.tenant_id, action_id, uow.tx)
    if action is None:
        return  # requested before this service existed, or another tenant's id: nothing to word a mail with
    contact = await uow.store.contact(event.tenant_id, action.contact_id, uow.tx)
    await _contact_notification(event, kind, action, contact, uow, key, **extra)


async def _contact_notification(
    event: Envelope,
    kind: Kind,
    action: ActionFacts,
    contact: Recipient | None,
    uow: UnitOfWork,
    key: str | None = None,
    **extra: object,
) -> None:
    prefs = await uow.store.prefs_of(event.tenant_id, uow.tx)
    if (to := contact_mail(kind, action, contact, prefs)) is None:
        return
    await uow.queue(event, kind, to, await _facts(event, action, uow, **extra), key)


async def to_staff(event: Envelope, kind: Kind, action_id: str, uow: UnitOfWork, **extra: object) -> None:
    action = await uow.store.action(event.tenant_id, action_id, uow.tx)
    prefs = await uow.store.prefs_of(event.tenant_id, uow.tx)
    if (to := staff_mail(kind, action, prefs)) is None:
        return
    contact = await uow.store.contact(event.tenant_id, action.contact_id, uow.tx) if action else None
    facts = await _facts(
        event,
        action,
        uow,
        contact_name=contact.name if contact else "",
        contact_email=contact.email if contact else "",
        **extra,
    )
    await uow.queue(event, kind, to, facts)


async def _facts(event: Envelope, action: ActionFacts | None, uow: UnitOfWork, **extra: object) -> dict[str, object]:
    """What the mail will say, frozen now: later changes to the task do not rewrite a mail already decided."""
    facts: dict[str, object] = {"occurred_at": event.occurred_at, **extra}
    if action is not None:
        facts.update(
            action_id=action.action_id,
            task_id=action.task_id,
            task_title=action.task_title,
            action_kind=action.kind,
            message=action.message,
            expires_at=action.expires_at,
            document_title=await uow.store.document_title(event.tenant_id, action.document_id, uow.tx),
        )
    return facts
