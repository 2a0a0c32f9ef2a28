"""documents.events: uploaded documents, their versions, stamped copies and withdrawn approvals."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel

from contracts.envelope import Envelope


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
