"""Every v1 message on the bus: one envelope subclass per `type`, a discriminated union of all."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Annotated, Any, Literal, Union

from pydantic import BaseModel, Field, TypeAdapter

from contracts.envelope import Envelope
from contracts.models import (
    ActionKind, ActionSnapshot, ContactRef, Evidence, FieldSpec, FieldValue, Language, SignatureRef, Signer,
    TaskSnapshot,
)

# --- tasks.events: tenants and staff keys (projected by every staff-facing service) ---


class TenantRegisteredPayload(BaseModel):
    name: str
    plan: Literal["basic", "premium"]


class TenantRegistered(Envelope):
    type: Literal["tenant.registered"] = "tenant.registered"
    payload: TenantRegisteredPayload


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


class ActionDeclinedPayload(BaseModel):
    action_id: str
    contact_id: str
    kind: ActionKind
    reason: str
    declined_at: datetime


class ActionDeclined(Envelope):
    type: Literal["action.declined"] = "action.declined"
    payload: ActionDeclinedPayload


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


MESSAGE_TYPES: tuple[type[Envelope], ...] = (
    TenantRegistered, StaffKeyIssued, StaffKeyRevoked, ContactRegistered, ContactUpdated,
    TaskCreated, TaskUpdated, TaskPhaseChanged, TaskActionRequested, TaskActionCancelled,
    TaskActionCompleted, ActionExpired, ActionReminderDue, ChangeTaskPhase, TaskSigned,
    DocumentSigned, ActionDeclined, DocumentUploaded, DocumentVersionAdded, DocumentStamped,
    ApprovalWithdrawn, EvidenceRecorded, SignatureSealed, TimelineNoteAdded, RequestTaskAction,
    TimelineEntryAppended,
)

Message = Annotated[Union[MESSAGE_TYPES], Field(discriminator="type")]  # type: ignore[valid-type]
message_adapter: TypeAdapter[Envelope] = TypeAdapter(Message)
KNOWN_TYPES = frozenset(m.model_fields["type"].default for m in MESSAGE_TYPES)


def parse_message(raw: bytes | str | dict) -> Envelope | None:
    """Parse a message; a type this code does not know yet is None (newer producers are allowed)."""
    data = raw if isinstance(raw, dict) else json.loads(raw)
    if data.get("type") not in KNOWN_TYPES:
        return None
    return message_adapter.validate_python(data)
