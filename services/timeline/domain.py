"""Timeline entries: what each audience may see of an event, as pure data.

Staff see everything with its full evidence. The portal audience sees only what a customer may:
requests to them, their own signings (proof without IP or user agent), declines, renderings and
seals of their signings, and phase changes. An entry's id is derived from the causing event and the
audience, so a redelivered event can never add a second entry.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel

from contracts import Envelope
from contracts import messages as m

Audience = Literal["staff", "portal"]
AUDIENCES: tuple[Audience, ...] = ("staff", "portal")


class Entry(BaseModel):
    id: str
    tenant_id: str
    task_id: str
    audience: Audience
    kind: str
    at: datetime
    summary: str
    actor: dict[str, Any]
    # Whose action this is; None is about the whole task (or an action resolved by action_id).
    contact_id: str | None = None
    action_id: str | None = None
    data: dict[str, Any] = {}
    event_id: str


def entry_id(event_id: str, audience: Audience) -> str:
    return f"{event_id}:{audience}"


@dataclass(frozen=True)
class KnownAction:
    """What the projection learned about an action from its request (names are not on every event)."""

    action_id: str
    contact_id: str
    contact_name: str | None
    kind: str
    document_id: str | None = None


@dataclass(frozen=True)
class Known:
    action: KnownAction | None = None
    contact_name: str | None = None
    # The name of the staff key behind a staff actor that carries only the key id.
    staff_name: str | None = None

    # What the projection knew depends on which topic it happened to read first, so it is recorded with
    # each entry's place in the chain (timeline.entry_appended) and a rebuild builds the entry from it.
    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Known:
        action = data.get("action")
        return cls(
            action=KnownAction(**action) if action else None,
            contact_name=data.get("contact_name"),
            staff_name=data.get("staff_name"),
        )


@dataclass(frozen=True)
class Draft:
    """One audience's view of an event, before it becomes an Entry."""

    audience: Audience
    summary: str
    data: dict[str, Any]
    contact_id: str | None = None
    action_id: str | None = None


def _at_millis(at: datetime) -> datetime:
    # MongoDB keeps milliseconds; entries are hashed, so they must round-trip exactly.
    return at.replace(microsecond=at.microsecond // 1000 * 1000)


def _actor(event: Envelope, audience: Audience, known: Known) -> dict[str, Any]:
    if audience == "staff":
        return {**event.actor.model_dump(), "name": _actor_name(event, known)}
    # Customers see who, never internal key or rule ids.
    name = event.actor.name if event.actor.kind == "contact" else None
    return {"kind": event.actor.kind, "name": name}


def _actor_name(event: Envelope, known: Known) -> str | None:
    if event.actor.name:
        return event.actor.name
    return known.staff_name if event.actor.kind == "staff" else None


def _name(known: Known, contact_id: str | None, event: Envelope) -> str:
    # The event's own actor first: it does not depend on which topic the projection happened to read first.
    if event.actor.kind == "contact" and event.actor.id == contact_id and event.actor.name:
        return event.actor.name
    if known.action and known.action.contact_name and (contact_id in (None, known.action.contact_id)):
        return known.action.contact_name
    return known.contact_name or "the contact"


def _both(summary: str, staff: dict[str, Any], portal: dict[str, Any], **who: Any) -> list[Draft]:
    return [Draft("staff", summary, staff, **who), Draft("portal", summary, portal, **who)]


def _staff(summary: str, data: dict[str, Any], **who: Any) -> list[Draft]:
    return [Draft("staff", summary, data, **who)]


def _alike(summary: str, data: dict[str, Any], p: m.ContactAction) -> list[Draft]:
    """One entry that staff and the portal see alike, about the contact's action `p` names."""
    return _both(summary, data, data, contact_id=p.contact_id, action_id=p.action_id)


def _staff_about(summary: str, p: m.ContactAction) -> list[Draft]:
    """One entry for staff only, with all of `p`, about the contact's action it names."""
    return _staff(summary, p.model_dump(mode="json"), contact_id=p.contact_id, action_id=p.action_id)


def _request_closed(e: m.TaskActionCancelled | m.ActionExpired, known: Known, how: str) -> list[Draft]:
    p = e.payload
    return _alike(
        f"Signature request to {_name(known, p.contact_id, e)} {how}", {"action_id": p.action_id, "reason": p.reason}, p
    )


def _refused(
    e: m.SigningRejected | m.DeclineRejected, known: Known, what: str, done: str, submitted: dict[str, str]
) -> list[Draft]:
    """tasks refused the portal's signing or decline (`submitted` names it): its action was closed first."""
    p = e.payload
    data = {"action_id": p.action_id, "kind": p.kind, **submitted, "action_status": p.action_status, "reason": p.reason}
    said = f"{what} of {_name(known, p.contact_id, e)} refused: the request was {p.action_status} before it was {done}"
    return _alike(said, data, p)


# --- one builder per event type ---


def _task_created(e: m.TaskCreated, known: Known) -> list[Draft]:
    t = e.payload.task
    return _staff(f"Task '{t.title}' created in phase {t.phase}", t.model_dump(mode="json"))


def _task_updated(e: m.TaskUpdated, known: Known) -> list[Draft]:
    t = e.payload.task
    return _staff(f"Task '{t.title}' updated", t.model_dump(mode="json"))


def _phase_changed(e: m.TaskPhaseChanged, known: Known) -> list[Draft]:
    p = e.payload
    said = f"Phase changed from {p.from_phase} to {p.to_phase}"
    who = _actor_name(e, known)
    by = f" by rule '{p.rule_name}'" if p.rule_name else (f" by {who}" if who else "")
    return [
        Draft("staff", said + by, p.model_dump(mode="json")),
        Draft("portal", said, {"from_phase": p.from_phase, "to_phase": p.to_phase}),
    ]


def _requested(e: m.TaskActionRequested, known: Known) -> list[Draft]:
    a, c = e.payload.action, e.payload.contact
    what = "Document signature" if a.kind == "sign_document" else "Signature"
    portal = {
        "action_id": a.action_id,
        "kind": a.kind,
        "document_id": a.document_id,
        "message": a.message,
        "fields": [f.model_dump() for f in a.fields],
        "expires_at": a.expires_at.isoformat() if a.expires_at else None,
    }
    staff = {
        **portal,
        "contact": c.model_dump(mode="json"),
        "document_version_id": a.document_version_id,
        "document_digest": a.document_digest,
    }
    said, who = f"{what} requested from {c.name}", {"contact_id": c.contact_id, "action_id": a.action_id}
    if e.payload.rule_name:  # asked by an automation rule (task.request_action): staff see which one
        staff.update(rule_id=e.payload.rule_id, rule_name=e.payload.rule_name)
        return [
            Draft("staff", f"{said} by rule '{e.payload.rule_name}'", staff, **who),
            Draft("portal", said, portal, **who),
        ]
    return _both(said, staff, portal, **who)


def _cancelled(e: m.TaskActionCancelled, known: Known) -> list[Draft]:
    return _request_closed(e, known, "cancelled")


def _completed(e: m.TaskActionCompleted, known: Known) -> list[Draft]:
    p = e.payload
    return _staff_about(f"Action of {_name(known, p.contact_id, e)} completed", p)


def _expired(e: m.ActionExpired, known: Known) -> list[Draft]:
    return _request_closed(e, known, "expired")


def _reminder(e: m.ActionReminderDue, known: Known) -> list[Draft]:
    p = e.payload
    return _staff_about(f"Reminder {p.reminder_number} sent to {_name(known, p.contact_id, e)}", p)


def _signed(e: m.TaskSigned | m.DocumentSigned, known: Known) -> list[Draft]:
    p, ev = e.payload, e.payload.evidence
    proof = {
        "action_id": p.action_id,
        "signer": p.signer.model_dump(),
        "fields": p.fields,
        "signed_at": ev.signed_at.isoformat(),
        "signature_kind": p.signature.kind,
        "signature_id": p.signature.signature_id,
    }
    staff = {
        **proof,
        "ip": ev.ip,
        "user_agent": ev.user_agent,
        "auth_method": ev.auth_method,
        "session_id": ev.session_id,
        "consent_text": ev.consent_text,
        "consent_version": ev.consent_version,
        "signature": p.signature.model_dump(),
        "task": p.task.model_dump(),
    }
    what = "Signed"
    if isinstance(e, m.DocumentSigned):
        what = "Document signed"
        d = e.payload
        proof["document_id"] = d.document_id
        staff.update(
            document_id=d.document_id, document_version_id=d.document_version_id, document_digest=d.document_digest
        )
    return _both(f"{what} by {p.signer.name}", staff, proof, contact_id=p.signer.contact_id, action_id=p.action_id)


def _rejected(e: m.SigningRejected, known: Known) -> list[Draft]:
    return _refused(e, known, "Signature", "signed", {"signed_event_id": e.payload.signed_event_id})


def _decline_rejected(e: m.DeclineRejected, known: Known) -> list[Draft]:
    return _refused(e, known, "Decline", "declined", {"declined_event_id": e.payload.declined_event_id})


def _declined(e: m.ActionDeclined, known: Known) -> list[Draft]:
    p = e.payload
    data = {"action_id": p.action_id, "kind": p.kind, "reason": p.reason, "declined_at": p.declined_at.isoformat()}
    return _alike(f"Declined by {_name(known, p.contact_id, e)}: {p.reason}", data, p)


def _stamped(e: m.DocumentStamped, known: Known) -> list[Draft]:
    p = e.payload
    portal = {
        "action_id": p.action_id,
        "document_id": p.document_id,
        "version_id": p.version_id,
        "preview_url": p.preview_url,
        "pdf_url": p.pdf_url,
    }
    staff = {
        **portal,
        "source_version_id": p.source_version_id,
        "digest": p.digest,
        "signed_event_id": p.signed_event_id,
    }
    return _both(
        "Rendering of the signed document",
        staff,
        portal,
        contact_id=known.action.contact_id if known.action else None,
        action_id=p.action_id,
    )


def _withdrawn(e: m.ApprovalWithdrawn, known: Known) -> list[Draft]:
    p = e.payload
    return _staff(f"Approval withdrawn: {p.reason}", p.model_dump(mode="json"), action_id=p.action_id)


def _evidence(e: m.EvidenceRecorded, known: Known) -> list[Draft]:
    p = e.payload
    return _staff("Evidence of the signing recorded", p.model_dump(mode="json"), action_id=p.action_id)


def _sealed(e: m.SignatureSealed, known: Known) -> list[Draft]:
    p = e.payload
    summary = "Approval certificate sealed" if p.kind == "approval_certificate" else "Signed document sealed"
    portal = {"action_id": p.action_id, "kind": p.kind, "pdf_id": p.pdf_id, "pdf_url": p.pdf_url}
    staff = {**portal, "digest": p.digest, "evidence_id": p.evidence_id}
    return _both(
        summary, staff, portal, contact_id=known.action.contact_id if known.action else None, action_id=p.action_id
    )


def _note(e: m.TimelineNoteAdded, known: Known) -> list[Draft]:
    p = e.payload
    by = f" (rule '{p.rule_name}')" if p.rule_name else ""
    return _staff(f"Note{by}: {p.text}", p.model_dump(mode="json"))


BUILDERS: dict[str, Callable[[Any, Known], list[Draft]]] = {
    "task.created": _task_created,
    "task.updated": _task_updated,
    "task.phase_changed": _phase_changed,
    "task.action_requested": _requested,
    "task.action_cancelled": _cancelled,
    "task.action_completed": _completed,
    "action.expired": _expired,
    "action.reminder_due": _reminder,
    "task.signed": _signed,
    "document.signed": _signed,
    "action.declined": _declined,
    "signing.rejected": _rejected,
    "decline.rejected": _decline_rejected,
    "document.stamped": _stamped,
    "approval.withdrawn": _withdrawn,
    "evidence.recorded": _evidence,
    "signature.sealed": _sealed,
    "timeline.note_added": _note,
}


def build_entries(event: Envelope, known: Known = Known()) -> list[Entry]:
    """The timeline entries `event` adds, one per audience that may see it (none for tenant-level events)."""
    builder = BUILDERS.get(event.type)
    if builder is None or event.task_id is None:
        return []
    return [
        Entry(
            id=entry_id(event.event_id, d.audience),
            tenant_id=event.tenant_id,
            task_id=event.task_id,
            audience=d.audience,
            kind=event.type,
            at=_at_millis(event.occurred_at),
            summary=d.summary,
            actor=_actor(event, d.audience, known),
            contact_id=d.contact_id,
            action_id=d.action_id,
            data=d.data,
            event_id=event.event_id,
        )
        for d in builder(event, known)
    ]


def action_of(event: Envelope) -> str | None:
    payload = getattr(event, "payload", None)
    if isinstance(payload, m.ActionRequestedPayload):
        return payload.action.action_id
    return getattr(payload, "action_id", None)


def contact_of(event: Envelope) -> str | None:
    payload = getattr(event, "payload", None)
    signer = getattr(payload, "signer", None)
    return signer.contact_id if signer else getattr(payload, "contact_id", None)
