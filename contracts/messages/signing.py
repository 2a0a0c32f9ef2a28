"""signing.events: the evidence recorded for a signing and the PDFs sealed from it."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel

from contracts.envelope import Envelope
from contracts.models import ActionKind


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
