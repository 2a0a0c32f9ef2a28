"""Steps shared by the portal's integration tests: tasks requests an action, a contact opens a magic link."""

from __future__ import annotations

import base64
import io
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from PIL import Image, ImageDraw

from contracts import new_id
from contracts.messages import ContactRegistered, TaskActionRequested
from contracts.models import ActionSnapshot, ContactRef, FieldSpec, TaskSnapshot
from contracts.portal_link import PortalLink, sign
from contracts.topics import PORTAL_EVENTS, TASKS_EVENTS
from services.runtime.config import DEV_SECRET
from tests.support.bus import publish, read_events
from tests.support.magic_link import open_link

FIELDS = [
    FieldSpec(name="approved_by", label="Approved by"),
    FieldSpec(name="remarks", label="Remarks", required=False),
]


def png_with_ink() -> str:
    image = Image.new("RGBA", (200, 60), (255, 255, 255, 0))
    ImageDraw.Draw(image).line((10, 40, 190, 20), fill=(0, 0, 0, 255), width=4)
    out = io.BytesIO()
    image.save(out, format="PNG")
    return base64.b64encode(out.getvalue()).decode()


def blank_png() -> str:
    out = io.BytesIO()
    Image.new("RGBA", (300, 100), (0, 0, 0, 0)).save(out, format="PNG")
    return base64.b64encode(out.getvalue()).decode()


@pytest.fixture(scope="module")
def portal(stack):
    return stack.start("portal")


async def given_open_action(
    infra,
    *,
    tenant_id: str | None = None,
    contact_id: str | None = None,
    kind: str = "sign_task",
    title: str = "Replace the roof",
    digest: str | None = None,
    language: str = "en",
    description: str = "Whole roof",
    document_id: str = "doc-1",
    document_version_id: str = "v1",
    expires_at: datetime | None = None,
):
    """tasks has registered a contact and requested an action from them."""
    tenant_id, contact_id = tenant_id or new_id(), contact_id or new_id()
    task_id, action_id = new_id(), new_id()
    contact = ContactRef(contact_id=contact_id, name="Jan de Vries", email="jan@example.com", language=language)
    task = TaskSnapshot(
        task_id=task_id, title=title, description=description, phase="Waiting for approval", contact_id=contact_id
    )
    action = ActionSnapshot(
        action_id=action_id,
        kind=kind,
        contact_id=contact_id,
        fields=FIELDS,
        document_id=document_id if digest else None,
        document_version_id=document_version_id if digest else None,
        document_digest=digest,
        expires_at=expires_at,
    )
    await publish(
        infra.kafka_bootstrap,
        TASKS_EVENTS,
        ContactRegistered(tenant_id=tenant_id, payload={"contact": contact}),
        TaskActionRequested(
            tenant_id=tenant_id, task_id=task_id, payload={"action": action, "task": task, "contact": contact}
        ),
    )
    return {"tenant_id": tenant_id, "contact_id": contact_id, "task_id": task_id, "action_id": action_id}


def link_token(tenant_id: str, contact_id: str, *, expires_in: timedelta = timedelta(hours=1)) -> str:
    return sign(
        DEV_SECRET,
        PortalLink(
            link_id=new_id(), tenant_id=tenant_id, contact_id=contact_id, expires_at=datetime.now(UTC) + expires_in
        ),
    )


@asynccontextmanager
async def signed_in(portal, tenant_id: str, contact_id: str):
    """A browser-like client that opened a fresh magic link (its session cookie kept in the jar)."""
    async with httpx.AsyncClient(base_url=portal.url, timeout=10) as client:
        response = await open_link(client, f"/login?token={link_token(tenant_id, contact_id)}")
        assert response.status_code == 303, response.text
        assert "akkoord_session" in client.cookies
        yield client


async def open_actions(client: httpx.AsyncClient) -> list[dict]:
    tasks = (await client.get("/api/v1/tasks")).json()
    return [a for t in tasks for a in t["open_actions"]]


async def csrf(client: httpx.AsyncClient) -> dict:
    return {"X-CSRF-Token": (await client.get("/api/v1/session")).json()["csrf_token"]}


def sign_body(**overrides) -> dict:
    return {
        "fields": {"approved_by": "Jan"},
        "signature": {"kind": "drawn", "png_base64": png_with_ink()},
        "consent": True,
        **overrides,
    }


async def portal_events(infra, type_: str, action_id: str) -> list[dict]:
    return [
        b
        for b, _ in await read_events(infra.kafka_bootstrap, PORTAL_EVENTS)
        if b.get("type") == type_ and b["payload"]["action_id"] == action_id
    ]
