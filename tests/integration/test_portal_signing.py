"""The portal against the real broker and database: magic link → session → open action → sign / decline."""

from __future__ import annotations

import base64
import io
from contextlib import asynccontextmanager
from datetime import datetime, timedelta, timezone

import httpx
import pytest
from PIL import Image, ImageDraw

from contracts import new_id
from contracts.messages import ContactRegistered, TaskActionCancelled, TaskActionRequested
from contracts.models import ActionSnapshot, ContactRef, FieldSpec, TaskSnapshot
from contracts.portal_link import PortalLink, sign
from contracts.topics import PORTAL_EVENTS, TASKS_EVENTS
from services.runtime.config import DEV_SECRET
from tests.support.bus import publish, read_all
from tests.support.waiting import eventually

FIELDS = [FieldSpec(name="approved_by", label="Approved by"), FieldSpec(name="remarks", label="Remarks",
                                                                         required=False)]


def png_with_ink() -> str:
    image = Image.new("RGBA", (200, 60), (255, 255, 255, 0))
    ImageDraw.Draw(image).line((10, 40, 190, 20), fill=(0, 0, 0, 255), width=4)
    out = io.BytesIO()
    image.save(out, format="PNG")
    return base64.b64encode(out.getvalue()).decode()


@pytest.fixture(scope="module")
def portal(stack):
    return stack.start("portal")


async def given_open_action(infra, *, tenant_id: str | None = None, contact_id: str | None = None,
                            kind: str = "sign_task", title: str = "Replace the roof", digest: str | None = None):
    """tasks has registered a contact and requested an action from them."""
    tenant_id, contact_id = tenant_id or new_id(), contact_id or new_id()
    task_id, action_id = new_id(), new_id()
    contact = ContactRef(contact_id=contact_id, name="Jan de Vries", email="jan@example.com", language="en")
    task = TaskSnapshot(task_id=task_id, title=title, description="Whole roof", phase="Waiting for approval",
                        contact_id=contact_id)
    action = ActionSnapshot(action_id=action_id, kind=kind, contact_id=contact_id, fields=FIELDS,
                            document_id="doc-1" if digest else None, document_version_id="v1" if digest else None,
                            document_digest=digest)
    await publish(infra.kafka_bootstrap, TASKS_EVENTS,
                  ContactRegistered(tenant_id=tenant_id, payload={"contact": contact}),
                  TaskActionRequested(tenant_id=tenant_id, task_id=task_id,
                                      payload={"action": action, "task": task, "contact": contact}))
    return {"tenant_id": tenant_id, "contact_id": contact_id, "task_id": task_id, "action_id": action_id}


def link_token(tenant_id: str, contact_id: str, *, expires_in: timedelta = timedelta(hours=1)) -> str:
    return sign(DEV_SECRET, PortalLink(link_id=new_id(), tenant_id=tenant_id, contact_id=contact_id,
                                       expires_at=datetime.now(timezone.utc) + expires_in))


@asynccontextmanager
async def signed_in(portal, tenant_id: str, contact_id: str):
    """A browser-like client that opened a fresh magic link (its session cookie kept in the jar)."""
    async with httpx.AsyncClient(base_url=portal.url, timeout=10) as client:
        response = await client.get("/login", params={"token": link_token(tenant_id, contact_id)})
        assert response.status_code == 303, response.text
        assert "akkoord_session" in client.cookies
        yield client


async def open_actions(client: httpx.AsyncClient) -> list[dict]:
    tasks = (await client.get("/api/v1/tasks")).json()
    return [a for t in tasks for a in t["open_actions"]]


async def csrf(client: httpx.AsyncClient) -> dict:
    return {"X-CSRF-Token": (await client.get("/api/v1/session")).json()["csrf_token"]}


def sign_body(**overrides) -> dict:
    return {"fields": {"approved_by": "Jan"}, "signature": {"kind": "drawn", "png_base64": png_with_ink()},
            "consent": True, **overrides}


async def test_a_contact_signs_an_open_action_exactly_once_and_task_signed_is_published(infra, portal):
    given = await given_open_action(infra)
    async with signed_in(portal, given["tenant_id"], given["contact_id"]) as client:
        actions = await eventually(lambda: open_actions(client), what="the open action")
        assert [a["id"] for a in actions] == [given["action_id"]]

        headers = await csrf(client)
        url = f"/api/v1/actions/{given['action_id']}/signature"
        first = await client.post(url, json=sign_body(), headers=headers)
        assert first.status_code == 201, first.text
        second = await client.post(url, json=sign_body(), headers=headers)
        assert second.status_code == 409
        assert "already signed" in second.json()["detail"]
        assert await open_actions(client) == []

        async def task_signed():
            return [b for b, _ in await read_all(infra.kafka_bootstrap, PORTAL_EVENTS)
                    if b.get("type") == "task.signed" and b["payload"]["action_id"] == given["action_id"]]
        [event] = await eventually(task_signed, what="task.signed on portal.events")
        assert event["tenant_id"] == given["tenant_id"] and event["task_id"] == given["task_id"]
        assert event["payload"]["fields"] == {"approved_by": "Jan", "remarks": None}
        assert event["payload"]["evidence"]["auth_method"] == "magic_link"
        assert event["payload"]["signer"]["name"] == "Jan de Vries"

    image = httpx.get(event["payload"]["signature"]["image_url"].replace("http://127.0.0.1:8000", portal.url),
                      headers={"X-Internal-Token": DEV_SECRET})
    assert image.status_code == 200 and image.content.startswith(b"\x89PNG")
    assert httpx.get(f"{portal.url}/internal/v1/signatures/{first.json()['signature_id']}").status_code == 401


async def test_a_missing_required_field_is_refused_naming_it(infra, portal):
    given = await given_open_action(infra)
    async with signed_in(portal, given["tenant_id"], given["contact_id"]) as client:
        await eventually(lambda: open_actions(client), what="the open action")
        response = await client.post(f"/api/v1/actions/{given['action_id']}/signature",
                                     json=sign_body(fields={"approved_by": "  "}), headers=await csrf(client))
    assert response.status_code == 422
    assert [e["field"] for e in response.json()["errors"]] == ["fields.approved_by"]


async def test_signing_without_the_csrf_token_is_forbidden(infra, portal):
    given = await given_open_action(infra)
    async with signed_in(portal, given["tenant_id"], given["contact_id"]) as client:
        await eventually(lambda: open_actions(client), what="the open action")
        url = f"/api/v1/actions/{given['action_id']}/signature"
        assert (await client.post(url, json=sign_body())).status_code == 403
        assert (await client.post(url, json=sign_body(), headers={"X-CSRF-Token": "guess"})).status_code == 403
        assert len(await open_actions(client)) == 1


async def test_another_contacts_action_is_not_found(infra, portal):
    mine = await given_open_action(infra)
    theirs = await given_open_action(infra, tenant_id=mine["tenant_id"])
    other_tenant = await given_open_action(infra)
    async with signed_in(portal, mine["tenant_id"], mine["contact_id"]) as client:
        await eventually(lambda: open_actions(client), what="my open action")
        headers = await csrf(client)
        for other in (theirs, other_tenant):
            await eventually(lambda: _action_is_projected(portal, other), what="the other action projected")
            response = await client.post(f"/api/v1/actions/{other['action_id']}/signature", json=sign_body(),
                                         headers=headers)
            assert response.status_code == 404
            assert (await client.get(f"/api/v1/tasks/{other['task_id']}")).status_code == 404


async def _action_is_projected(portal, given) -> bool:
    async with signed_in(portal, given["tenant_id"], given["contact_id"]) as client:
        return bool(await open_actions(client))


async def test_a_magic_link_opens_one_session_only_and_bad_or_expired_links_are_refused(infra, portal):
    given = await given_open_action(infra)
    token = link_token(given["tenant_id"], given["contact_id"])
    first = httpx.get(f"{portal.url}/login", params={"token": token})
    assert first.status_code == 303
    cookie = first.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=lax" in cookie
    reused = httpx.get(f"{portal.url}/login", params={"token": token})
    assert reused.status_code == 410 and "already used" in reused.text
    forged = httpx.get(f"{portal.url}/login", params={"token": token[:-3] + "abc"})
    assert forged.status_code == 400
    expired = httpx.get(f"{portal.url}/login", params={
        "token": link_token(given["tenant_id"], given["contact_id"], expires_in=timedelta(seconds=-1))})
    assert expired.status_code == 410 and "expired" in expired.text
    assert httpx.get(f"{portal.url}/api/v1/session").status_code == 401


async def test_a_task_page_without_the_timeline_service_still_shows_the_task(infra, portal):
    given = await given_open_action(infra)
    async with signed_in(portal, given["tenant_id"], given["contact_id"]) as client:
        await eventually(lambda: open_actions(client), what="the open action")
        task = (await client.get(f"/api/v1/tasks/{given['task_id']}")).json()
    assert task["timeline"] == [] and task["timeline_available"] is False
    assert [a["id"] for a in task["actions"]] == [given["action_id"]]


async def test_a_changed_document_is_refused_and_the_shown_version_is_signed(infra, portal):
    given = await given_open_action(infra, kind="sign_document", digest="a" * 64)
    async with signed_in(portal, given["tenant_id"], given["contact_id"]) as client:
        await eventually(lambda: open_actions(client), what="the open action")
        headers = await csrf(client)
        url = f"/api/v1/actions/{given['action_id']}/signature"
        stale = await client.post(url, json=sign_body(document_digest="b" * 64), headers=headers)
        assert stale.status_code == 409 and "document changed" in stale.json()["detail"]
        assert (await client.post(url, json=sign_body(document_digest="a" * 64), headers=headers)).status_code == 201

    async def document_signed():
        return [b for b, _ in await read_all(infra.kafka_bootstrap, PORTAL_EVENTS)
                if b.get("type") == "document.signed" and b["payload"]["action_id"] == given["action_id"]]
    [event] = await eventually(document_signed, what="document.signed")
    assert event["payload"]["document_digest"] == "a" * 64


async def test_declining_needs_a_reason_and_emits_action_declined(infra, portal):
    given = await given_open_action(infra)
    async with signed_in(portal, given["tenant_id"], given["contact_id"]) as client:
        await eventually(lambda: open_actions(client), what="the open action")
        headers = await csrf(client)
        url = f"/api/v1/actions/{given['action_id']}/decline"
        missing = await client.post(url, json={"reason": ""}, headers=headers)
        assert missing.status_code == 422 and missing.json()["errors"][0]["field"] == "reason"
        assert (await client.post(url, json={"reason": "Not finished"}, headers=headers)).status_code == 200
        assert await open_actions(client) == []

    async def declined():
        return [b for b, _ in await read_all(infra.kafka_bootstrap, PORTAL_EVENTS)
                if b.get("type") == "action.declined" and b["payload"]["action_id"] == given["action_id"]]
    [event] = await eventually(declined, what="action.declined")
    assert event["payload"]["reason"] == "Not finished"


async def test_a_cancelled_action_leaves_the_open_actions(infra, portal):
    given = await given_open_action(infra)
    async with signed_in(portal, given["tenant_id"], given["contact_id"]) as client:
        await eventually(lambda: open_actions(client), what="the open action")
        await publish(infra.kafka_bootstrap, TASKS_EVENTS, TaskActionCancelled(
            tenant_id=given["tenant_id"], task_id=given["task_id"],
            payload={"action_id": given["action_id"], "contact_id": given["contact_id"]}))

        async def no_open_actions():
            return await open_actions(client) == []
        await eventually(no_open_actions, what="the action closed")
