"""portal.events: what a contact did in the portal (a signing, a decline), before tasks accepts it."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, Field

from contracts.envelope import Envelope
from contracts.messages.refs import ContactActionOfKind
from contracts.models import Evidence, FieldValue, Language, SignatureRef, Signer, TaskSnapshot


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


class ActionDeclinedPayload(ContactActionOfKind):
    reason: str
    declined_at: datetime


class ActionDeclined(Envelope):
    type: Literal["action.declined"] = "action.declined"
    payload: ActionDeclinedPayload
