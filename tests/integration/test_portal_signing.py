"""The portal's JSON API against the real broker and database: magic link → session → sign / decline."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import httpx

from contracts.messages import DocumentStamped, SignatureSealed, TaskActionCancelled
from contracts.topics import DOCUMENTS_EVENTS, SIGNING_EVENTS, TASKS_EVENTS
from services.runtime.config import DEV_SECRET
from tests.integration.portal_steps import (
    blank_png,
    csrf,
    given_open_action,
    link_token,
    open_actions,
    portal,
    portal_events,
    sign_body,
    signed_in,
)
from tests.support.bus import publish
from tests.support.magic_link import open_link_sync
from tests.support.waiting import eventually

__all__ = ["portal"]  # the module-scoped fixture


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

        [event] = await eventually(
            lambda: portal_events(infra, "task.signed", given["action_id"]), what="task.signed on portal.events"
        )
        assert event["tenant_id"] == given["tenant_id"] and event["task_id"] == given["task_id"]
        assert event["payload"]["fields"] == {"approved_by": "Jan", "remarks": None}
        assert event["payload"]["evidence"]["auth_method"] == "magic_link"
        assert event["payload"]["signer"]["name"] == "Jan de Vries"

    image_url = event["payload"]["signature"]["image_url"]
    assert image_url.startswith(portal.url)  # no internal address set: the portal's one address
    image = httpx.get(image_url, headers={"X-Internal-Token": DEV_SECRET})
    assert image.status_code == 200 and image.content.startswith(b"\x89PNG")
    assert httpx.get(f"{portal.url}/internal/v1/signatures/{first.json()['signature_id']}").status_code == 401


async def test_a_missing_required_field_is_refused_naming_it(infra, portal):
    given = await given_open_action(infra)
    async with signed_in(portal, given["tenant_id"], given["contact_id"]) as client:
        await eventually(lambda: open_actions(client), what="the open action")
        response = await client.post(
            f"/api/v1/actions/{given['action_id']}/signature",
            json=sign_body(fields={"approved_by": "  "}),
            headers=await csrf(client),
        )
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
    for other in (theirs, other_tenant):
        async with signed_in(portal, other["tenant_id"], other["contact_id"]) as their_client:
            await eventually(lambda: open_actions(their_client), what="the other contact's action")
    async with signed_in(portal, mine["tenant_id"], mine["contact_id"]) as client:
        await eventually(lambda: open_actions(client), what="my open action")
        headers = await csrf(client)
        for other in (theirs, other_tenant):
            response = await client.post(
                f"/api/v1/actions/{other['action_id']}/signature", json=sign_body(), headers=headers
            )
            assert response.status_code == 404
            assert (await client.get(f"/api/v1/tasks/{other['task_id']}")).status_code == 404
            assert (await client.get(f"/api/v1/actions/{other['action_id']}")).status_code == 404


async def test_a_magic_link_opens_one_session_only_and_bad_or_expired_links_are_refused(infra, portal):
    given = await given_open_action(infra)
    token = link_token(given["tenant_id"], given["contact_id"])
    with httpx.Client(base_url=portal.url) as browser:
        first = open_link_sync(browser, f"/login?token={token}")
        assert first.status_code == 303
        cookie = first.headers["set-cookie"].lower()
        assert "httponly" in cookie and "samesite=lax" in cookie
        cookies = dict(browser.cookies)

    async def contact_known():  # the refusal below speaks the contact's language, so the portal must know them
        async with httpx.AsyncClient(base_url=portal.url, cookies=cookies) as client:
            return (await client.get("/api/v1/session")).json()["contact"]["name"]

    await eventually(contact_known, what="the contact in the portal")
    reused = httpx.get(f"{portal.url}/login", params={"token": token})
    assert reused.status_code == 410 and "already used" in reused.text
    forged = httpx.get(f"{portal.url}/login", params={"token": token[:-3] + "abc"})
    assert forged.status_code == 400
    expired = httpx.get(
        f"{portal.url}/login",
        params={"token": link_token(given["tenant_id"], given["contact_id"], expires_in=timedelta(seconds=-1))},
    )
    assert expired.status_code == 410 and "expired" in expired.text
    assert httpx.get(f"{portal.url}/api/v1/session").status_code == 401


async def test_a_task_page_without_the_timeline_service_still_shows_the_task(infra, stack, portal):
    timeline = stack.running.get("timeline")
    if timeline is not None:  # another module started it: this test needs it down, and puts it back after
        timeline.stop()
    try:
        given = await given_open_action(infra)
        async with signed_in(portal, given["tenant_id"], given["contact_id"]) as client:
            await eventually(lambda: open_actions(client), what="the open action")
            task = (await client.get(f"/api/v1/tasks/{given['task_id']}")).json()
            page = await client.get(f"/tasks/{given['task_id']}")
    finally:
        if timeline is not None:
            stack.start("timeline")
    assert task["timeline"] == [] and task["timeline_available"] is False
    assert [a["id"] for a in task["actions"]] == [given["action_id"]]
    assert page.status_code == 200 and "cannot be shown right now" in page.text


async def test_a_changed_document_is_refused_and_the_shown_version_is_signed(infra, portal):
    given = await given_open_action(infra, kind="sign_document", digest="a" * 64)
    async with signed_in(portal, given["tenant_id"], given["contact_id"]) as client:
        await eventually(lambda: open_actions(client), what="the open action")
        headers = await csrf(client)
        url = f"/api/v1/actions/{given['action_id']}/signature"
        stale = await client.post(url, json=sign_body(document_digest="b" * 64), headers=headers)
        assert stale.status_code == 409 and "document changed" in stale.json()["detail"]
        assert (await client.post(url, json=sign_body(document_digest="a" * 64), headers=headers)).status_code == 201

    [event] = await eventually(
        lambda: portal_events(infra, "document.signed", given["action_id"]), what="document.signed"
    )
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

    [event] = await eventually(
        lambda: portal_events(infra, "action.declined", given["action_id"]), what="action.declined"
    )
    assert event["payload"]["reason"] == "Not finished"


async def test_a_cancelled_action_leaves_the_open_actions_and_a_signature_for_it_is_a_conflict(infra, portal):
    given = await given_open_action(infra)
    async with signed_in(portal, given["tenant_id"], given["contact_id"]) as client:
        await eventually(lambda: open_actions(client), what="the open action")
        await publish(
            infra.kafka_bootstrap,
            TASKS_EVENTS,
            TaskActionCancelled(
                tenant_id=given["tenant_id"],
                task_id=given["task_id"],
                payload={"action_id": given["action_id"], "contact_id": given["contact_id"]},
            ),
        )

        async def no_open_actions():
            return await open_actions(client) == []

        await eventually(no_open_actions, what="the action closed")
        # and a signature sent for it anyway (a page opened before) is refused with a conflict saying why
        refused = await client.post(
            f"/api/v1/actions/{given['action_id']}/signature", json=sign_body(), headers=await csrf(client)
        )
        assert refused.status_code == 409 and "cancelled by the sender" in refused.json()["detail"]
        assert refused.json()["code"] == "cancelled"
        assert await portal_events(infra, "task.signed", given["action_id"]) == []


async def test_two_simultaneous_submissions_give_one_signature_and_one_already_signed(infra, portal):
    given = await given_open_action(infra)
    async with signed_in(portal, given["tenant_id"], given["contact_id"]) as client:
        await eventually(lambda: open_actions(client), what="the open action")
        headers = await csrf(client)
        url = f"/api/v1/actions/{given['action_id']}/signature"
        responses = await asyncio.gather(*[client.post(url, json=sign_body(), headers=headers) for _ in range(3)])
    assert sorted(r.status_code for r in responses) == [201, 409, 409]
    await eventually(lambda: portal_events(infra, "task.signed", given["action_id"]), what="task.signed")
    assert len(await portal_events(infra, "task.signed", given["action_id"])) == 1


async def test_a_typed_signature_is_rendered_by_the_server(infra, portal):
    given = await given_open_action(infra)
    async with signed_in(portal, given["tenant_id"], given["contact_id"]) as client:
        await eventually(lambda: open_actions(client), what="the open action")
        response = await client.post(
            f"/api/v1/actions/{given['action_id']}/signature",
            headers=await csrf(client),
            json=sign_body(signature={"kind": "typed", "typed_name": "Jan de Vries"}),
        )
    assert response.status_code == 201, response.text
    [event] = await eventually(lambda: portal_events(infra, "task.signed", given["action_id"]), what="task.signed")
    assert event["payload"]["signature"]["kind"] == "typed"


async def test_a_blank_drawing_is_refused(infra, portal):
    given = await given_open_action(infra)
    async with signed_in(portal, given["tenant_id"], given["contact_id"]) as client:
        await eventually(lambda: open_actions(client), what="the open action")
        response = await client.post(
            f"/api/v1/actions/{given['action_id']}/signature",
            headers=await csrf(client),
            json=sign_body(signature={"kind": "drawn", "png_base64": blank_png()}),
        )
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "signature"


async def test_signed_artefacts_announced_by_documents_and_signing_are_offered_through_the_portal(infra, portal):
    given = await given_open_action(infra)
    async with signed_in(portal, given["tenant_id"], given["contact_id"]) as client:
        await eventually(lambda: open_actions(client), what="the open action")
        assert (
            await client.post(
                f"/api/v1/actions/{given['action_id']}/signature", json=sign_body(), headers=await csrf(client)
            )
        ).status_code == 201
        common = {"tenant_id": given["tenant_id"], "task_id": given["task_id"]}
        await publish(
            infra.kafka_bootstrap,
            DOCUMENTS_EVENTS,
            DocumentStamped(
                **common,
                payload={
                    "document_id": "d1",
                    "action_id": given["action_id"],
                    "source_version_id": "v1",
                    "version_id": "v2",
                    "digest": "f" * 64,
                    "signed_event_id": "e1",
                    "pdf_url": "http://127.0.0.1:8003/internal/v1/documents/d1/versions/v2/pdf",
                    "preview_url": "http://attacker.example/steal",
                },
            ),
        )
        await publish(
            infra.kafka_bootstrap,
            SIGNING_EVENTS,
            SignatureSealed(
                **common,
                payload={
                    "evidence_id": "ev1",
                    "action_id": given["action_id"],
                    "kind": "approval_certificate",
                    "pdf_id": "p1",
                    "digest": "f" * 64,
                    "pdf_url": "http://127.0.0.1:8002/internal/v1/sealed-pdfs/p1",
                },
            ),
        )

        async def downloads():
            action = (await client.get(f"/api/v1/actions/{given['action_id']}")).json()
            return action["downloads"] if len(action["downloads"]) == 3 else None

        offered = await eventually(downloads, what="the artefacts in the read model")
        assert offered["approval_certificate"] == f"/actions/{given['action_id']}/sealed/approval_certificate.pdf"
        # Neither service holds those documents, and a foreign address is never fetched: a 404, not a 500.
        for kind, path in offered.items():
            response = await client.get(path)
            if kind == "approval_certificate" and response.status_code == 200:
                # the real signing service, when it runs beside this test, sealed a certificate for this signing
                # and its announcement replaced the one above
                assert response.content.startswith(b"%PDF")
            else:
                assert response.status_code == 404, (kind, response.status_code)
