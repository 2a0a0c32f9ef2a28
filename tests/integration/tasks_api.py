"""Helpers for the tasks service's integration tests: a running service, tenants, and its events."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import httpx

from contracts import new_id, utcnow
from contracts.messages import DocumentUploaded, DocumentVersionPayload
from contracts.models import Evidence, SignatureRef, Signer, TaskSnapshot
from contracts.topics import DOCUMENTS_EVENTS, TASKS_EVENTS
from tests.support.bus import publish, read_events
from tests.support.stack import TEST_OPERATOR_KEY
from tests.support.waiting import eventually


@dataclass
class Tenant:
    tenant_id: str
    staff: httpx.AsyncClient
    admin: httpx.AsyncClient
    staff_key: str
    admin_key: str


async def register_tenant(url: str, plan: str = "premium", name: str = "Bouwbedrijf Test") -> Tenant:
    async with httpx.AsyncClient(base_url=url) as operator:
        response = await operator.post(
            "/v1/tenants", json={"name": name, "plan": plan}, headers={"Authorization": f"Bearer {TEST_OPERATOR_KEY}"}
        )
    assert response.status_code == 201, response.text
    body = response.json()

    def client(key: str) -> httpx.AsyncClient:
        return httpx.AsyncClient(base_url=url, headers={"Authorization": f"Bearer {key}"}, timeout=30)

    return Tenant(
        body["tenant_id"], client(body["staff_key"]), client(body["admin_key"]), body["staff_key"], body["admin_key"]
    )


async def tenant_events(bootstrap: str, tenant_id: str, type_: str | None = None) -> list[dict]:
    """Every event on tasks.events for this tenant (optionally of one type), in topic order per key, each once."""
    return [
        body
        for body, _ in await read_events(bootstrap, TASKS_EVENTS)
        if body.get("tenant_id") == tenant_id and (type_ is None or body.get("type") == type_)
    ]


async def create_contact(tenant: Tenant, **extra) -> dict:
    response = await tenant.staff.post(
        "/v1/contacts",
        json={"name": "Sanne Jansen", "email": "sanne@example.nl", "company": "Jansen BV", "language": "nl", **extra},
    )
    assert response.status_code == 201, response.text
    return response.json()


async def create_task(tenant: Tenant, **extra) -> dict:
    response = await tenant.staff.post("/v1/tasks", json={"title": "Kitchen renovation", **extra})
    assert response.status_code == 201, response.text
    return response.json()


async def request_signature(tenant: Tenant, task_id: str, contact_id: str, **extra) -> dict:
    body = {
        "contact_id": contact_id,
        "kind": "sign_task",
        "fields": [{"name": "approved_by", "label": "Approved by", "type": "text", "required": True}],
        **extra,
    }
    response = await tenant.staff.post(f"/v1/tasks/{task_id}/actions", json=body)
    assert response.status_code == 201, response.text
    return response.json()


async def request_document_signature(
    bootstrap: str, tenant: Tenant, task_id: str, contact_id: str, content: bytes = b"work order"
) -> tuple[dict, str, str]:
    """A work order uploaded (documents' event, as tasks learns of it) and a sign_document action pinning it:
    (the action, the document id, its digest)."""
    document_id, digest = new_id(), hashlib.sha256(content).hexdigest()
    await publish(
        bootstrap,
        DOCUMENTS_EVENTS,
        DocumentUploaded(
            tenant_id=tenant.tenant_id,
            payload=DocumentVersionPayload(
                document_id=document_id, title="Work order", version_id="v1", version=1, digest=digest, pages=1
            ),
        ),
    )

    async def requested() -> dict | None:
        # tasks learns of the document from documents' events, on a partition of their own: it waits a few
        # seconds for one it does not know yet, which a loaded machine can take longer than to deliver it.
        response = await tenant.staff.post(
            f"/v1/tasks/{task_id}/actions",
            json={"contact_id": contact_id, "kind": "sign_document", "document_id": document_id, "fields": []},
        )
        if response.status_code == 422 and "unknown document" in response.text:
            return None
        assert response.status_code == 201, response.text
        return response.json()

    action = await eventually(requested, timeout=60, what="tasks accepting the uploaded document")
    return action, document_id, digest


def signed_payload(task: dict, action_id: str, contact: dict) -> dict:
    return dict(
        action_id=action_id,
        signer=Signer(contact_id=contact["id"], name=contact["name"], email=contact["email"]),
        fields={"approved_by": "Sanne"},
        signature=SignatureRef(
            signature_id=new_id(),
            kind="drawn",
            image_digest="0" * 64,
            image_url="http://portal/internal/v1/signatures/x",
        ),
        evidence=Evidence(
            signed_at=utcnow(),
            ip="127.0.0.1",
            user_agent="test",
            session_id="s",
            auth_method="magic_link",
            consent_text="I agree",
            consent_version="1",
        ),
        task=TaskSnapshot(task_id=task["id"], title=task["title"], phase=task["phase"]),
    )
