"""Envelopes of one approval story (a task, a request to Jan, his signing), for timeline and automation tests."""

from __future__ import annotations

from datetime import UTC, datetime

from contracts import Actor, new_id
from contracts import messages as m
from contracts.models import ActionSnapshot, ContactRef, Evidence, FieldSpec, SignatureRef, Signer, TaskSnapshot
from services.runtime.staff_auth import hash_key

NOW = datetime(2026, 11, 30, 9, 30, tzinfo=UTC)


def tenant(tenant_id: str, secret: str) -> list:
    return [
        m.TenantRegistered(tenant_id=tenant_id, payload=m.TenantRegisteredPayload(name=tenant_id, plan="premium")),
        m.StaffKeyIssued(
            tenant_id=tenant_id,
            payload=m.StaffKeyIssuedPayload(key_id=new_id(), key_hash=hash_key(secret), name="staff", role="admin"),
        ),
    ]


def contact(contact_id: str = "c-jan", name: str = "Jan") -> ContactRef:
    return ContactRef(contact_id=contact_id, name=name, email=f"{name.lower()}@example.com")


def task_created(tenant_id: str, task_id: str, phase: str = "Waiting for approval") -> m.TaskCreated:
    return m.TaskCreated(
        tenant_id=tenant_id,
        task_id=task_id,
        actor=Actor(kind="staff", id="k1", name="Els"),
        payload=m.TaskPayload(task=TaskSnapshot(task_id=task_id, title="Kitchen", phase=phase)),
    )


def requested(
    tenant_id: str,
    task_id: str,
    who: ContactRef,
    action_id: str | None = None,
    kind: str = "sign_task",
    document_id: str | None = None,
) -> m.TaskActionRequested:
    return m.TaskActionRequested(
        tenant_id=tenant_id,
        task_id=task_id,
        actor=Actor(kind="staff", id="k1", name="Els"),
        payload=m.ActionRequestedPayload(
            action=ActionSnapshot(
                action_id=action_id or new_id(),
                kind=kind,
                contact_id=who.contact_id,
                document_id=document_id,
                fields=[FieldSpec(name="remarks", label="Remarks", required=False)],
            ),
            task=TaskSnapshot(task_id=task_id, title="Kitchen", phase="Waiting for approval"),
            contact=who,
        ),
    )


def _signed_payload(task_id: str, action_id: str, who: ContactRef, phase: str, fields: dict | None = None) -> dict:
    return dict(
        action_id=action_id,
        signer=Signer(contact_id=who.contact_id, name=who.name, email=who.email),
        fields=fields if fields is not None else {"remarks": "All good"},
        signature=SignatureRef(
            signature_id="sig-1",
            kind="drawn",
            image_digest="ab" * 32,
            image_url="http://portal/internal/v1/signatures/sig-1",
        ),
        evidence=Evidence(
            signed_at=NOW,
            ip="203.0.113.7",
            user_agent="Firefox/140",
            session_id="sess-1",
            auth_method="magic_link",
            consent_text="I approve",
            consent_version="v1",
        ),
        task=TaskSnapshot(task_id=task_id, title="Kitchen", phase=phase),
    )


def task_signed(
    tenant_id: str,
    task_id: str,
    action_id: str,
    who: ContactRef,
    phase: str = "Waiting for approval",
    depth: int = 0,
    fields: dict | None = None,
) -> m.TaskSigned:
    return m.TaskSigned(
        tenant_id=tenant_id,
        task_id=task_id,
        causation_depth=depth,
        actor=Actor(kind="contact", id=who.contact_id, name=who.name),
        payload=m.TaskSignedPayload(**_signed_payload(task_id, action_id, who, phase, fields)),
    )


def document_signed(
    tenant_id: str, task_id: str, action_id: str, who: ContactRef, phase: str = "Waiting for approval"
) -> m.DocumentSigned:
    return m.DocumentSigned(
        tenant_id=tenant_id,
        task_id=task_id,
        actor=Actor(kind="contact", id=who.contact_id, name=who.name),
        payload=m.DocumentSignedPayload(
            **_signed_payload(task_id, action_id, who, phase),
            document_id="doc-1",
            document_version_id="v1",
            document_digest="cd" * 32,
        ),
    )


def declined(tenant_id: str, task_id: str, action_id: str, who: ContactRef) -> m.ActionDeclined:
    return m.ActionDeclined(
        tenant_id=tenant_id,
        task_id=task_id,
        actor=Actor(kind="contact", id=who.contact_id, name=who.name),
        payload=m.ActionDeclinedPayload(
            action_id=action_id, contact_id=who.contact_id, kind="sign_task", reason="Not finished", declined_at=NOW
        ),
    )


def phase_changed(
    tenant_id: str, task_id: str, before: str, after: str, rule_name: str | None = None, depth: int = 0
) -> m.TaskPhaseChanged:
    actor = Actor(kind="rule", id="r1", name=rule_name) if rule_name else Actor(kind="staff", id="k1", name="Els")
    return m.TaskPhaseChanged(
        tenant_id=tenant_id,
        task_id=task_id,
        actor=actor,
        causation_depth=depth,
        payload=m.PhaseChangedPayload(
            from_phase=before, to_phase=after, rule_id="r1" if rule_name else None, rule_name=rule_name
        ),
    )


def stamped(tenant_id: str, task_id: str, action_id: str) -> m.DocumentStamped:
    return m.DocumentStamped(
        tenant_id=tenant_id,
        task_id=task_id,
        payload=m.DocumentStampedPayload(
            document_id="doc-1",
            action_id=action_id,
            source_version_id="v1",
            version_id="v2",
            digest="ef" * 32,
            pdf_url="http://documents/internal/v1/documents/doc-1/versions/v2/pdf",
            preview_url="http://documents/internal/v1/documents/doc-1/versions/v2/pages/1.png",
            signed_event_id="e1",
        ),
    )


def sealed(tenant_id: str, task_id: str, action_id: str) -> m.SignatureSealed:
    return m.SignatureSealed(
        tenant_id=tenant_id,
        task_id=task_id,
        payload=m.SignatureSealedPayload(
            evidence_id="ev-1",
            action_id=action_id,
            kind="approval_certificate",
            pdf_id="pdf-1",
            digest="12" * 32,
            pdf_url="http://signing/v1/certificates/pdf-1",
        ),
    )
