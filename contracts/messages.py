"""Every v1 message on the bus: one envelope subclass per `type`, a discriminated union of all."""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any, Literal, Union

from pydantic import BaseModel, Field, TypeAdapter

from contracts.envelope import Envelope
from contracts.models import (
    ActionKind,
    ActionSnapshot,
    ContactRef,
    Evidence,
    FieldSpec,
    FieldValue,
    Language,
    SignatureRef,
    Signer,
    TaskSnapshot,
)
from contracts.topics import (
    ALL_TOPICS,
    AUTOMATION_EVENTS,
    DOCUMENTS_EVENTS,
    PORTAL_EVENTS,
    SIGNING_EVENTS,
    TASKS_COMMANDS,
    TASKS_EVENTS,
    TIMELINE_CHAIN,
)

# --- tasks.events: tenants and staff keys (projected by every staff-facing service) ---


class TenantRegisteredPayload(BaseModel):
    name: str
    plan: Literal["basic", "premium"]
    # The IANA zone the tenant's proof speaks in (a stamped date, the approval certificate).
    time_zone: str = "Europe/Amsterdam"


class TenantRegistered(Envelope):
    type: Literal["tenant.registered"] = "tenant.registered"
    payload: TenantRegisteredPayload


class TenantBrandingPayload(BaseModel):
    """How the tenant looks to its customers (portal pages, mails): its name, colour and logo."""

    name: str
    colour: str | None = None  # "#0b57d0"; dark enough for white text (contrast >= 4.5:1)
    # The logo by reference: a public URL of tasks (`/v1/tenants/{id}/logo`) and the SHA-256 of its bytes.
    logo_url: str | None = None
    logo_digest: str | None = None
    logo_type: str | None = None  # image/png | image/jpeg


class TenantBrandingChanged(Envelope):
    type: Literal["tenant.branding_changed"] = "tenant.branding_changed"
    payload: TenantBrandingPayload


class StaffKeyIssuedPayload(BaseModel):
    key_id: str
    key_hash: str  # SHA-256 hex of the secret; the secret itself never leaves tasks
    name: str
    role: Literal["staff", "admin"]


class StaffKeyIssued(Envelope):
    type: Literal["staff_key.issued"] = "staff_key.issued"
    payload: StaffKeyIssuedPayload


class StaffKeyRevokedPayload(BaseModel):
    key_id: str


class StaffKeyRevoked(Envelope):
    type: Literal["staff_key.revoked"] = "staff_key.revoked"
    payload: StaffKeyRevokedPayload


# --- tasks.events: contacts and tasks ---


class ContactPayload(BaseModel):
    contact: ContactRef
    archived: bool = False
    # Raised when staff revoke the contact's magic links: older links and the sessions they opened end.
    link_generation: int = 0


class ContactRegistered(Envelope):
    type: Literal["contact.registered"] = "contact.registered"
    payload: ContactPayload


class ContactUpdated(Envelope):
    type: Literal["contact.updated"] = "contact.updated"
    payload: ContactPayload


class TaskPayload(BaseModel):
    task: TaskSnapshot


class TaskCreated(Envelope):
    type: Literal["task.created"] = "task.created"
    payload: TaskPayload


class TaskUpdated(Envelope):
    type: Literal["task.updated"] = "task.updated"
    payload: TaskPayload


class PhaseChangedPayload(BaseModel):
    from_phase: str
    to_phase: str
    rule_id: str | None = None
    rule_name: str | None = None


class TaskPhaseChanged(Envelope):
    type: Literal["task.phase_changed"] = "task.phase_changed"
    payload: PhaseChangedPayload


class ActionRequestedPayload(BaseModel):
    action: ActionSnapshot
    task: TaskSnapshot
    contact: ContactRef
    # Set when an automation rule asked for the action (task.request_action), so timelines can name it.
    rule_id: str | None = None
    rule_name: str | None = None


class TaskActionRequested(Envelope):
    type: Literal["task.action_requested"] = "task.action_requested"
    payload: ActionRequestedPayload


class ActionRefPayload(BaseModel):
    action_id: str
    contact_id: str
    reason: str | None = None


class TaskActionCancelled(Envelope):
    type: Literal["task.action_cancelled"] = "task.action_cancelled"
    payload: ActionRefPayload


class ActionCompletedPayload(BaseModel):
    action_id: str
    contact_id: str
    kind: ActionKind
    signed_event_id: str
    # The portal's signing that tasks accepted, as the portal sent it: rules, evidence, seals, stamping and the
    # timelines act on this, never on the portal's event alone (tasks refuses a signing of a closed action).
    signing: AcceptedSigning | None = None


class TaskActionCompleted(Envelope):
    type: Literal["task.action_completed"] = "task.action_completed"
    payload: ActionCompletedPayload


class ActionExpired(Envelope):
    type: Literal["action.expired"] = "action.expired"
    payload: ActionRefPayload


class ReminderDuePayload(BaseModel):
    action_id: str
    contact_id: str
    reminder_number: int


class ActionReminderDue(Envelope):
    type: Literal["action.reminder_due"] = "action.reminder_due"
    payload: ReminderDuePayload


# --- tasks.commands ---


class ChangePhasePayload(BaseModel):
    expected_phase: str
    phase: str
    rule_id: str | None = None
    rule_name: str | None = None


class ChangeTaskPhase(Envelope):
    type: Literal["task.change_phase"] = "task.change_phase"
    payload: ChangePhasePayload


class RequestActionPayload(BaseModel):
    """What a rule asks for: the same request staff make with POST /v1/tasks/{id}/actions."""

    contact_id: str
    kind: ActionKind
    fields: list[FieldSpec] = []
    document_id: str | None = None
    message: str | None = None
    # Relative to when tasks opens the action (a rule states durations, not moments).
    expires_in_hours: int | None = None
    remind_in_hours: list[int] = []
    rule_id: str | None = None
    rule_name: str | None = None


class RequestTaskAction(Envelope):
    type: Literal["task.request_action"] = "task.request_action"
    payload: RequestActionPayload


# --- portal.events ---


class TaskSignedPayload(BaseModel):
    action_id: str
    signer: Signer
    fields: dict[str, FieldValue]
    signature: SignatureRef
    evidence: Evidence
    task: TaskSnapshot
    language: Language = "nl"


class TaskSigned(Envelope):
    type: Literal["task.signed"] = "task.signed"
    payload: TaskSignedPayload


class DocumentSignedPayload(TaskSignedPayload):
    document_id: str
    document_version_id: str
    document_digest: str


class DocumentSigned(Envelope):
    type: Literal["document.signed"] = "document.signed"
    payload: DocumentSignedPayload


AcceptedSigning = Annotated[TaskSigned | DocumentSigned, Field(discriminator="type")]
ActionCompletedPayload.model_rebuild()


class SigningRejectedPayload(BaseModel):
    action_id: str
    contact_id: str
    kind: ActionKind
    signed_event_id: str  # the portal's task.signed / document.signed that was refused
    action_status: str  # what the action was when the signing reached tasks: cancelled, expired, completed, declined
    reason: str


class SigningRejected(Envelope):
    """tasks refused a signing the portal took (its action was closed meanwhile): no rule, seal or stamp follows."""

    type: Literal["signing.rejected"] = "signing.rejected"
    payload: SigningRejectedPayload


class ActionDeclinedPayload(BaseModel):
    action_id: str
    contact_id: str
    kind: ActionKind
    reason: str
    declined_at: datetime


class ActionDeclined(Envelope):
    type: Literal["action.declined"] = "action.declined"
    payload: ActionDeclinedPayload


class TaskActionDeclinedPayload(BaseModel):
    action_id: str
    contact_id: str
    kind: ActionKind
    declined_event_id: str
    # The portal's decline that tasks accepted, as the portal sent it: rules, staff mail, webhooks and the
    # timelines act on this, never on the portal's event alone (tasks refuses a decline of a closed action).
    decline: ActionDeclined


class TaskActionDeclined(Envelope):
    """tasks accepted the contact's decline: the action is declined."""

    type: Literal["task.action_declined"] = "task.action_declined"
    payload: TaskActionDeclinedPayload


class DeclineRejectedPayload(BaseModel):
    action_id: str
    contact_id: str
    kind: ActionKind
    declined_event_id: str  # the portal's action.declined that was refused
    action_status: str  # what the action was when the decline reached tasks: cancelled, expired, completed, declined
    reason: str


class DeclineRejected(Envelope):
    """tasks refused a decline the portal took (its action was closed meanwhile): no rule, mail or webhook follows."""

    type: Literal["decline.rejected"] = "decline.rejected"
    payload: DeclineRejectedPayload


# --- documents.events ---


class Placeholder(BaseModel):
    tag: str
    kind: Literal["signature", "signer_name", "signed_at", "field"]
    field: str | None = None
    page: int
    box: tuple[float, float, float, float]  # left, bottom, right, top in PDF points


class DocumentVersionPayload(BaseModel):
    document_id: str
    title: str
    version_id: str
    version: int
    digest: str
    pages: int
    placeholders: list[Placeholder] = []


class DocumentUploaded(Envelope):
    type: Literal["document.uploaded"] = "document.uploaded"
    payload: DocumentVersionPayload


class DocumentVersionAdded(Envelope):
    type: Literal["document.version_added"] = "document.version_added"
    payload: DocumentVersionPayload


class DocumentStampedPayload(BaseModel):
    document_id: str
    action_id: str
    source_version_id: str
    version_id: str
    digest: str
    pdf_url: str
    preview_url: str
    signed_event_id: str


class DocumentStamped(Envelope):
    type: Literal["document.stamped"] = "document.stamped"
    payload: DocumentStampedPayload


class ApprovalWithdrawnPayload(BaseModel):
    document_id: str
    action_id: str
    reason: str


class ApprovalWithdrawn(Envelope):
    type: Literal["approval.withdrawn"] = "approval.withdrawn"
    payload: ApprovalWithdrawnPayload


# --- signing.events ---


class EvidenceRecordedPayload(BaseModel):
    evidence_id: str
    action_id: str
    kind: ActionKind
    signed_event_id: str


class EvidenceRecorded(Envelope):
    type: Literal["evidence.recorded"] = "evidence.recorded"
    payload: EvidenceRecordedPayload


class SignatureSealedPayload(BaseModel):
    evidence_id: str
    action_id: str
    kind: Literal["approval_certificate", "sealed_document"]
    pdf_id: str
    digest: str
    pdf_url: str


class SignatureSealed(Envelope):
    type: Literal["signature.sealed"] = "signature.sealed"
    payload: SignatureSealedPayload


# --- automation.events ---


class NoteAddedPayload(BaseModel):
    """A note on a task's staff timeline, written by an automation rule."""

    text: str
    audience: Literal["staff"] = "staff"
    rule_id: str | None = None
    rule_name: str | None = None


class TimelineNoteAdded(Envelope):
    type: Literal["timeline.note_added"] = "timeline.note_added"
    payload: NoteAddedPayload


# --- timeline.chain: where timeline placed each entry (its own log, read back by a rebuild) ---


class EntryAppendedPayload(BaseModel):
    """One entry's place in its task's hash chain, and what the projection knew beside the event."""

    entry_id: str
    event_id: str  # the event the entry shows
    audience: Literal["staff", "portal"]
    seq: int
    prev_hash: str
    content_hash: str
    hash: str
    # Names and the action's request as the projection knew them when it wrote the entry: read back by a
    # rebuild, so the entry is rebuilt from the event with exactly the same content (opaque to others).
    known: dict[str, Any] = {}


class TimelineEntryAppended(Envelope):
    type: Literal["timeline.entry_appended"] = "timeline.entry_appended"
    payload: EntryAppendedPayload


class Kind(StrEnum):
    """What a message is to its readers."""

    EVENT = "event"  # a fact others may react to (timelines, rules, webhooks)
    COMMAND = "command"  # a request to one service, which may refuse it
    INTERNAL = "internal"  # a fact that stays inside Akkoord (tenants and keys, timeline's own bookkeeping)


@dataclass(frozen=True)
class Route:
    topic: str
    kind: Kind


# Each message's topic and kind, said once: consumers' tables, the webhook types, timeline's projection and
# the schemas are all derived from this.
ROUTES: dict[type[Envelope], Route] = {
    TenantRegistered: Route(TASKS_EVENTS, Kind.INTERNAL),
    TenantBrandingChanged: Route(TASKS_EVENTS, Kind.INTERNAL),
    StaffKeyIssued: Route(TASKS_EVENTS, Kind.INTERNAL),
    StaffKeyRevoked: Route(TASKS_EVENTS, Kind.INTERNAL),
    ContactRegistered: Route(TASKS_EVENTS, Kind.EVENT),
    ContactUpdated: Route(TASKS_EVENTS, Kind.EVENT),
    TaskCreated: Route(TASKS_EVENTS, Kind.EVENT),
    TaskUpdated: Route(TASKS_EVENTS, Kind.EVENT),
    TaskPhaseChanged: Route(TASKS_EVENTS, Kind.EVENT),
    TaskActionRequested: Route(TASKS_EVENTS, Kind.EVENT),
    TaskActionCancelled: Route(TASKS_EVENTS, Kind.EVENT),
    TaskActionCompleted: Route(TASKS_EVENTS, Kind.EVENT),
    ActionExpired: Route(TASKS_EVENTS, Kind.EVENT),
    ActionReminderDue: Route(TASKS_EVENTS, Kind.EVENT),
    ChangeTaskPhase: Route(TASKS_COMMANDS, Kind.COMMAND),
    TaskSigned: Route(PORTAL_EVENTS, Kind.EVENT),
    DocumentSigned: Route(PORTAL_EVENTS, Kind.EVENT),
    ActionDeclined: Route(PORTAL_EVENTS, Kind.EVENT),
    DocumentUploaded: Route(DOCUMENTS_EVENTS, Kind.EVENT),
    DocumentVersionAdded: Route(DOCUMENTS_EVENTS, Kind.EVENT),
    DocumentStamped: Route(DOCUMENTS_EVENTS, Kind.EVENT),
    ApprovalWithdrawn: Route(DOCUMENTS_EVENTS, Kind.EVENT),
    EvidenceRecorded: Route(SIGNING_EVENTS, Kind.EVENT),
    SignatureSealed: Route(SIGNING_EVENTS, Kind.EVENT),
    TimelineNoteAdded: Route(AUTOMATION_EVENTS, Kind.EVENT),
    RequestTaskAction: Route(TASKS_COMMANDS, Kind.COMMAND),
    TimelineEntryAppended: Route(TIMELINE_CHAIN, Kind.INTERNAL),
    SigningRejected: Route(TASKS_EVENTS, Kind.EVENT),
    TaskActionDeclined: Route(TASKS_EVENTS, Kind.EVENT),
    DeclineRejected: Route(TASKS_EVENTS, Kind.EVENT),
}
MESSAGE_TYPES: tuple[type[Envelope], ...] = tuple(ROUTES)


def type_name(message: type[Envelope]) -> str:
    """The `type` a message class carries on the bus (`task.signed`)."""
    name: str = message.model_fields["type"].default
    return name


def messages(*, kinds: Iterable[Kind] = tuple(Kind), topics: Iterable[str] | None = None) -> tuple[type[Envelope], ...]:
    """The message classes of these kinds (on these topics), in declaration order."""
    kinds, topics = frozenset(kinds), None if topics is None else frozenset(topics)
    return tuple(m for m, r in ROUTES.items() if r.kind in kinds and (topics is None or r.topic in topics))


# What a tenant's webhooks may subscribe to (automation accepts these, the console offers these): events only.
# Internal messages (tenants and keys, timeline's chain order) stay inside Akkoord, and commands are not facts.
WEBHOOK_MESSAGES: tuple[type[Envelope], ...] = messages(kinds=(Kind.EVENT,))


def topic_of(message: Envelope | type[Envelope]) -> str:
    return ROUTES[message if isinstance(message, type) else type(message)].topic


def topics_of(classes: Iterable[type[Envelope]]) -> tuple[str, ...]:
    """The topics these messages travel on (what a consumer of them subscribes to), in ALL_TOPICS order."""
    wanted = {ROUTES[c].topic for c in classes}
    return tuple(t for t in ALL_TOPICS if t in wanted)


Message = Annotated[Union[MESSAGE_TYPES], Field(discriminator="type")]  # type: ignore[valid-type]  # noqa: UP007 (a tuple of classes)
message_adapter: TypeAdapter[Envelope] = TypeAdapter(Message)
KNOWN_TYPES = frozenset(type_name(m) for m in MESSAGE_TYPES)
BY_TYPE: dict[str, type[Envelope]] = {type_name(m): m for m in MESSAGE_TYPES}


def parse_message(raw: bytes | str | dict[str, Any]) -> Envelope | None:
    """Parse a message; a type this code does not know yet is None (newer producers are allowed)."""
    data = raw if isinstance(raw, dict) else json.loads(raw)
    if data.get("type") not in KNOWN_TYPES:
        return None
    return message_adapter.validate_python(data)
