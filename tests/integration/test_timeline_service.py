"""The timeline service against the real broker and database: two audiences, idempotent, tenant-scoped."""

from __future__ import annotations

import httpx
import pytest

from contracts import Actor, new_id
from contracts.topics import DOCUMENTS_EVENTS, SIGNING_EVENTS, TASKS_EVENTS
from services.runtime.config import DEV_SECRET
from tests.support import approval_events as ev
from tests.support.accepted import publish_accepted
from tests.support.bus import publish
from tests.support.waiting import eventually

JAN, PIET = ev.contact("c-jan", "Jan"), ev.contact("c-piet", "Piet")


@pytest.fixture
async def world(stack, infra):
    """A running timeline service and a fresh tenant whose staff key it already knows."""
    service = stack.start("timeline")
    tenant, secret = new_id(), f"staff-{new_id()}"
    registered, key = ev.tenant(tenant, secret)
    await publish(infra.kafka_bootstrap, TASKS_EVENTS, registered, key)
    async with httpx.AsyncClient(base_url=service.url, headers={"Authorization": f"Bearer {secret}"}) as client:
        yield type(
            "World",
            (),
            {
                "client": client,
                "tenant": tenant,
                "bootstrap": infra.kafka_bootstrap,
                "url": service.url,
                "key_id": key.payload.key_id,
            },
        )


async def staff_entries(world, task_id: str, **params) -> list[dict]:
    response = await world.client.get(f"/v1/tasks/{task_id}/timeline", params=params)
    return response.json()["entries"] if response.status_code == 200 else []


async def portal_entries(world, task_id: str, contact_id: str, token: str = DEV_SECRET) -> httpx.Response:
    return await world.client.get(
        f"/internal/v1/tasks/{task_id}/timeline",
        params={"tenant_id": world.tenant, "contact_id": contact_id},
        headers={"X-Internal-Token": token, "Authorization": ""},
    )


async def wait_for_kinds(world, task_id: str, *kinds: str, audience: str = "staff") -> list[dict]:
    async def probe():
        entries = await staff_entries(world, task_id, audience=audience)
        return entries if set(kinds) <= {e["kind"] for e in entries} else None

    return await eventually(probe, what=f"{kinds} on the {audience} timeline")


async def test_a_signing_lands_in_both_timelines_with_proof_and_a_redelivery_adds_nothing(world):
    # Given a task waiting for approval and a signature request to Jan
    task = new_id()
    await publish(
        world.bootstrap,
        TASKS_EVENTS,
        ev.task_created(world.tenant, task),
        ev.requested(world.tenant, task, JAN, "a1"),
        ev.requested(world.tenant, task, PIET, "a2"),
    )
    # When Jan's signing is delivered twice, and events queue behind it on the same partitions
    signed = ev.task_signed(world.tenant, task, "a1", JAN)
    await publish_accepted(world.bootstrap, signed, signed, ev.declined(world.tenant, task, "a2", PIET))
    await publish(
        world.bootstrap,
        TASKS_EVENTS,
        ev.phase_changed(world.tenant, task, "Waiting for approval", "Approved", rule_name="Approve on signing"),
    )
    # Then the staff timeline shows it once, newest first, with the full evidence
    entries = await wait_for_kinds(world, task, "task.phase_changed", "task.signed", "action.declined")
    assert [e["kind"] for e in entries].count("task.signed") == 1
    signing = next(e for e in entries if e["kind"] == "task.signed")
    assert signing["summary"] == "Signed by Jan" and signing["id"] == f"{signed.event_id}:staff"
    assert signing["data"]["ip"] == "203.0.113.7" and signing["data"]["auth_method"] == "magic_link"
    phase = next(e for e in entries if e["kind"] == "task.phase_changed")
    assert phase["summary"] == "Phase changed from Waiting for approval to Approved by rule 'Approve on signing'"
    assert [e["summary"] for e in entries][-1] == "Task 'Kitchen' created in phase Waiting for approval"
    # And the portal timeline shows the proof without IP or user agent
    portal = await wait_for_kinds(world, task, "task.signed", audience="portal")
    proof = next(e for e in portal if e["kind"] == "task.signed")
    assert proof["data"]["signer"]["name"] == "Jan" and proof["data"]["fields"] == {"remarks": "All good"}
    assert "ip" not in proof["data"] and "user_agent" not in proof["data"]


async def test_a_portal_read_shows_only_that_contacts_actions_and_never_staff_only_fields(world):
    # Given requests to Jan and Piet on one task, Jan signed and Piet declined
    task = new_id()
    await publish(
        world.bootstrap,
        TASKS_EVENTS,
        ev.task_created(world.tenant, task),
        ev.requested(world.tenant, task, JAN, "a-jan"),
        ev.requested(world.tenant, task, PIET, "a-piet"),
    )
    await publish_accepted(
        world.bootstrap,
        ev.task_signed(world.tenant, task, "a-jan", JAN),
        ev.declined(world.tenant, task, "a-piet", PIET),
    )
    await publish(world.bootstrap, SIGNING_EVENTS, ev.sealed(world.tenant, task, "a-jan"))
    await publish(world.bootstrap, TASKS_EVENTS, ev.phase_changed(world.tenant, task, "Waiting for approval", "Done"))
    await wait_for_kinds(world, task, "task.signed", "action.declined", "signature.sealed", "task.phase_changed")
    # When the portal reads Piet's timeline
    response = await portal_entries(world, task, "c-piet")
    # Then he sees his request, his decline and the phase change, nothing of Jan's and nothing staff-only
    assert response.status_code == 200
    piet = response.json()["entries"]
    assert [e["summary"] for e in piet] == [
        "Phase changed from Waiting for approval to Done",
        "Declined by Piet: Not finished",
        "Signature requested from Piet",
    ]
    assert all(e["audience"] == "portal" for e in piet)
    # And Jan sees his signing (without IP or user agent) and his certificate, not Piet's decline
    jan = (await portal_entries(world, task, "c-jan")).json()["entries"]
    assert {e["kind"] for e in jan} == {
        "task.action_requested",
        "task.signed",
        "signature.sealed",
        "task.phase_changed",
    }
    for entry in jan:
        assert not {"ip", "user_agent", "session_id", "auth_method"} & entry["data"].keys()
        assert "contact_id" not in entry and "event_id" not in entry
    # And a contact without an action on the task, or a caller without the internal token, sees nothing
    assert (await portal_entries(world, task, "c-stranger")).status_code == 404
    assert (await portal_entries(world, task, "c-jan", token="wrong")).status_code == 401


async def test_a_signed_document_shows_the_rendering_of_the_signed_page_and_the_sealed_pdf(world):
    task = new_id()
    await publish(
        world.bootstrap,
        TASKS_EVENTS,
        ev.task_created(world.tenant, task),
        ev.requested(world.tenant, task, JAN, "a-doc", kind="sign_document", document_id="doc-1"),
    )
    await publish_accepted(world.bootstrap, ev.document_signed(world.tenant, task, "a-doc", JAN))
    await publish(world.bootstrap, DOCUMENTS_EVENTS, ev.stamped(world.tenant, task, "a-doc"))
    await wait_for_kinds(world, task, "task.action_requested", "document.signed", "document.stamped")
    jan = (await portal_entries(world, task, "c-jan")).json()["entries"]
    rendering = next(e for e in jan if e["kind"] == "document.stamped")
    assert rendering["summary"] == "Rendering of the signed document"
    assert rendering["data"]["preview_url"].endswith("/pages/1.png") and "digest" not in rendering["data"]
    assert next(e for e in jan if e["kind"] == "document.signed")["summary"] == "Document signed by Jan"


async def test_another_tenants_task_is_not_found_and_reads_page_and_filter(world, infra):
    # Given a task with a created entry, a request and a phase change (only tasks' events, so no
    # other service running beside the test adds entries of its own)
    task = new_id()
    await publish(
        world.bootstrap,
        TASKS_EVENTS,
        ev.task_created(world.tenant, task),
        ev.requested(world.tenant, task, JAN, "a1"),
        ev.phase_changed(world.tenant, task, "Waiting for approval", "Approved"),
    )
    await wait_for_kinds(world, task, "task.phase_changed", "task.action_requested", "task.created")
    # Then pages of one entry walk the timeline newest first
    first = (await world.client.get(f"/v1/tasks/{task}/timeline", params={"limit": 1})).json()
    second = (
        await world.client.get(f"/v1/tasks/{task}/timeline", params={"limit": 1, "cursor": first["next_cursor"]})
    ).json()
    assert [first["entries"][0]["kind"], second["entries"][0]["kind"]] == [
        "task.phase_changed",
        "task.action_requested",
    ]
    # And a kind filter keeps only that kind
    only = await staff_entries(world, task, kind="task.phase_changed")
    assert [e["kind"] for e in only] == ["task.phase_changed"]
    # And staff of another tenant get a 404 for this task; no key gets a 401
    other_tenant, other_secret = new_id(), f"staff-{new_id()}"
    await publish(world.bootstrap, TASKS_EVENTS, *ev.tenant(other_tenant, other_secret))
    async with httpx.AsyncClient(base_url=world.url, headers={"Authorization": f"Bearer {other_secret}"}) as other:

        async def status():
            code = (await other.get(f"/v1/tasks/{task}/timeline")).status_code
            return code if code != 401 else None

        assert await eventually(status, what="the other tenant's key is known") == 404
    async with httpx.AsyncClient(base_url=world.url) as anonymous:
        assert (await anonymous.get(f"/v1/tasks/{task}/timeline")).status_code == 401


async def test_a_phase_change_by_staff_names_the_staff_key(world):
    # Given the staff key is known (authenticating with it works) and a phase change made with it
    async def key_known():
        return (await world.client.get(f"/v1/tasks/{new_id()}/timeline")).status_code == 404

    await eventually(key_known, what="the staff key is projected")
    task = new_id()
    changed = ev.phase_changed(world.tenant, task, "New", "Waiting for approval")
    changed = changed.model_copy(update={"actor": Actor(kind="staff", id=world.key_id)})
    await publish(world.bootstrap, TASKS_EVENTS, ev.task_created(world.tenant, task, phase="New"), changed)
    # Then the staff timeline names the key (the projection of tasks' keys knows its name)
    [entry] = await eventually(lambda: staff_entries(world, task, kind="task.phase_changed"), what="the change")
    assert entry["summary"] == "Phase changed from New to Waiting for approval by staff"
    assert entry["actor"] == {"kind": "staff", "id": world.key_id, "name": "staff"}
