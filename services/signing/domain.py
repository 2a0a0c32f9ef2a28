"""Evidence of a signing: what a judge would ask for, built from the signed event alone. Pure."""

from __future__ import annotations

import hashlib
from datetime import datetime
from typing import Literal

from pydantic import BaseModel

from contracts.messages import DocumentSigned, TaskSigned
from contracts.models import ActionKind, FieldValue, SignatureRef, Signer, TaskSnapshot

SealKind = Literal["approval_certificate", "sealed_document"]
SEAL_REASON_PREFIX = "Akkoord evidence "


class DocumentEvidence(BaseModel):
    document_id: str
    version_id: str
    digest_before: str
    stamped_version_id: str | None = None
    digest_after: str | None = None


class TimelineAnchor(BaseModel):
    """The head of the task's hash-chained staff timeline when the seal was made: the evidence and the
    timeline vouch for each other, and neither can be rewritten alone."""

    audience: str = "staff"
    seq: int
    hash: str


class EvidenceRecord(BaseModel):
    evidence_id: str
    tenant_id: str
    task_id: str | None
    action_id: str
    kind: ActionKind
    signed_event_id: str
    correlation_id: str
    signer: Signer
    auth_method: str
    signed_at: datetime
    ip: str
    user_agent: str
    session_id: str
    consent_text: str
    consent_version: str
    fields: dict[str, FieldValue]
    signature: SignatureRef
    task: TaskSnapshot
    language: str = "nl"
    # The tenant's zone when the signing was recorded: the proof states the moment in it.
    time_zone: str = "Europe/Amsterdam"
    document: DocumentEvidence | None = None
    timeline_anchor: TimelineAnchor | None = None
    recorded_at: datetime


def evidence_id_for(tenant_id: str, action_id: str) -> str:
    """One evidence record per signed action, whichever copy of the signed event arrives first."""
    return hashlib.sha256(f"evidence:{tenant_id}:{action_id}".encode()).hexdigest()[:32]


def seal_id_for(evidence_id: str, kind: SealKind) -> str:
    """Deterministic, so a retried seal is stored once."""
    return hashlib.sha256(f"seal:{evidence_id}:{kind}".encode()).hexdigest()[:32]


def evidence_from_signed(
    event: TaskSigned | DocumentSigned, recorded_at: datetime, time_zone: str = "Europe/Amsterdam"
) -> EvidenceRecord:
    p = event.payload
    document = None
    if isinstance(event, DocumentSigned):
        d = event.payload
        document = DocumentEvidence(
            document_id=d.document_id, version_id=d.document_version_id, digest_before=d.document_digest
        )
    return EvidenceRecord(
        evidence_id=evidence_id_for(event.tenant_id, p.action_id),
        tenant_id=event.tenant_id,
        task_id=event.task_id or p.task.task_id,
        action_id=p.action_id,
        kind="sign_document" if document else "sign_task",
        signed_event_id=event.event_id,
        correlation_id=event.correlation_id,
        signer=p.signer,
        auth_method=p.evidence.auth_method,
        signed_at=p.evidence.signed_at,
        ip=p.evidence.ip,
        user_agent=p.evidence.user_agent,
        session_id=p.evidence.session_id,
        consent_text=p.evidence.consent_text,
        consent_version=p.evidence.consent_version,
        fields=dict(p.fields),
        signature=p.signature,
        task=p.task,
        language=p.language,
        time_zone=time_zone,
        document=document,
        recorded_at=recorded_at,
    )


def seal_reason(evidence_id: str) -> str:
    return f"{SEAL_REASON_PREFIX}{evidence_id}"


def evidence_id_from_reason(reason: str | None) -> str | None:
    if reason and reason.startswith(SEAL_REASON_PREFIX):
        return reason.removeprefix(SEAL_REASON_PREFIX).strip() or None
    return None
