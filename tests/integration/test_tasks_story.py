"""The main story through the tasks service, against the real broker and database."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys

import httpx

from contracts import portal_link
from services.runtime.config import DEV_SECRET
from tests.integration.console_users import post_signed_out
from tests.integration.tasks_api import (
    create_contact,
    create_task,
    register_tenant,
    request_signature,
    tenant_events,
)
from tests.support.waiting import eventually


async def test_staff_request_a_signature_and_every_change_appears_on_tasks_events(tasks_service, infra):
    # Given a premium tenant registered by the operator
    tenant = await register_tenant(tasks_service.url)
    # When staff create a contact, a task waiting for approval and a sign_task action
    contact = await create_contact(tenant)
    task = await create_task(
        tenant, description="Tiles and cabinets", phase="Waiting for approval", contact_id=contact["id"]
    )
    action = await request_signature(tenant, task["id"], contact["id"], message="Please approve")
    link = (await tenant.staff.post(f"/v1/contacts/{contact['id']}/portal-links")).json()

    # Then the task reads back with its open action
    read = (await tenant.staff.get(f"/v1/tasks/{task['id']}")).json()
    assert read["phase"] == "Waiting for approval" and read["contact_id"] == contact["id"]
    assert [(a["id"], a["status"], a["kind"]) for a in read["actions"]] == [(action["id"], "open", "sign_task")]
    assert read["actions"][0]["fields"][0]["name"] == "approved_by"
    assert (await tenant.staff.get(f"/v1/contacts/{contact['id']}")).json()["email"] == "sanne@example.nl"
    # and the portal link carries a token the portal can verify
    assert link["url"].startswith(os.environ.get("AKKOORD_PORTAL_URL", "http://127.0.0.1:"))
    token = link["url"].split("/login?token=", 1)[1]
    assert portal_link.read(DEV_SECRET, token).contact_id == contact["id"]

    # and every change is an event on tasks.events
    async def all_events():
        types = [e["type"] for e in await tenant_events(infra.kafka_bootstrap, tenant.tenant_id)]
        wanted = [
            "tenant.registered",
            "staff_key.issued",
            "staff_key.issued",
            "contact.registered",
            "task.created",
            "task.action_requested",
        ]
        return types if sorted(types) == sorted(wanted) else None

    await eventually(all_events, what="the story's events on tasks.events")
    requested = (await tenant_events(infra.kafka_bootstrap, tenant.tenant_id, "task.action_requested"))[0]
    assert requested["task_id"] == task["id"] and requested["actor"]["kind"] == "staff"
    assert requested["payload"]["task"]["title"] == "Kitchen renovation"
    assert requested["payload"]["task"]["phase"] == "Waiting for approval"
    assert requested["payload"]["contact"]["email"] == "sanne@example.nl"
    assert requested["payload"]["action"]["action_id"] == action["id"]
    assert requested["payload"]["action"]["message"] == "Please approve"
    issued = await tenant_events(infra.kafka_bootstrap, tenant.tenant_id, "staff_key.issued")
    assert all("key" not in e["payload"] and len(e["payload"]["key_hash"]) == 64 for e in issued)


async def test_the_new_staff_key_authenticates_and_a_wrong_operator_key_is_refused(tasks_service):
    tenant = await register_tenant(tasks_service.url)
    assert (await tenant.staff.get("/v1/phases")).json()["phases"] == [
        "New",
        "In progress",
        "Waiting for approval",
        "Approved",
        "Changes requested",
        "Done",
    ]
    async with httpx.AsyncClient(base_url=tasks_service.url) as anyone:
        refused = await anyone.post(
            "/v1/tenants", json={"name": "X", "plan": "premium"}, headers={"Authorization": "Bearer not-the-operator"}
        )
        unknown_key = await anyone.get("/v1/phases", headers={"Authorization": "Bearer nope"})
    assert refused.status_code == 401 and unknown_key.status_code == 401
    assert refused.headers["content-type"] == "application/problem+json"


async def test_a_basic_tenant_is_told_that_signing_is_premium(tasks_service):
    tenant = await register_tenant(tasks_service.url, plan="basic")
    contact = await create_contact(tenant)
    task = await create_task(tenant)
    response = await tenant.staff.post(
        f"/v1/tasks/{task['id']}/actions", json={"contact_id": contact["id"], "kind": "sign_task", "fields": []}
    )
    assert response.status_code == 403
    assert "premium" in response.json()["detail"]


async def test_a_phase_outside_the_tenants_list_is_refused(tasks_service):
    tenant = await register_tenant(tasks_service.url)
    created = await tenant.staff.post("/v1/tasks", json={"title": "T", "phase": "Somewhere"})
    task = await create_task(tenant)
    moved = await tenant.staff.put(f"/v1/tasks/{task['id']}/phase", json={"phase": "Somewhere"})
    assert created.status_code == 422 and moved.status_code == 422
    assert "Somewhere" in created.json()["detail"]


async def test_put_phase_with_a_stale_if_phase_is_a_conflict(tasks_service, infra):
    tenant = await register_tenant(tasks_service.url)
    task = await create_task(tenant)
    moved = await tenant.staff.put(f"/v1/tasks/{task['id']}/phase", json={"phase": "In progress", "if_phase": "New"})
    stale = await tenant.staff.put(f"/v1/tasks/{task['id']}/phase", json={"phase": "Done", "if_phase": "New"})
    assert moved.status_code == 200 and moved.json()["phase"] == "In progress"
    assert stale.status_code == 409
    assert (await tenant.staff.get(f"/v1/tasks/{task['id']}")).json()["phase"] == "In progress"

    async def phase_changed():
        return await tenant_events(infra.kafka_bootstrap, tenant.tenant_id, "task.phase_changed")

    [event] = await eventually(phase_changed, what="task.phase_changed")
    assert event["payload"]["from_phase"] == "New" and event["payload"]["to_phase"] == "In progress"
    assert event["actor"]["kind"] == "staff"


async def test_two_concurrent_phase_changes_with_the_same_if_phase_one_wins(tasks_service):
    tenant = await register_tenant(tasks_service.url)
    task = await create_task(tenant, phase="Waiting for approval")
    url = f"/v1/tasks/{task['id']}/phase"
    responses = await asyncio.gather(
        tenant.staff.put(url, json={"phase": "Approved", "if_phase": "Waiting for approval"}),
        tenant.staff.put(url, json={"phase": "Changes requested", "if_phase": "Waiting for approval"}),
    )
    assert sorted(r.status_code for r in responses) == [200, 409]
    winner = next(r for r in responses if r.status_code == 200).json()["phase"]
    assert (await tenant.staff.get(f"/v1/tasks/{task['id']}")).json()["phase"] == winner


async def test_seed_demo_prints_the_same_working_key_and_console_login_on_every_run(tasks_service, stack):
    env = stack.env("tasks")
    runs = [
        subprocess.run(
            [sys.executable, "-m", "services.tasks", "seed-demo"], env=env, capture_output=True, text=True, timeout=60
        )
        for _ in range(2)
    ]
    assert all(r.returncode == 0 for r in runs), runs[0].stderr
    printed = [dict(line.split("=", 1) for line in r.stdout.split()) for r in runs]
    assert printed[0] == printed[1]
    assert set(printed[0]) == {"DEMO_STAFF_KEY", "DEMO_ADMIN_KEY", "DEMO_STAFF_EMAIL", "DEMO_STAFF_PASSWORD"}
    key, admin_key = printed[0]["DEMO_STAFF_KEY"], printed[0]["DEMO_ADMIN_KEY"]
    async with httpx.AsyncClient(base_url=tasks_service.url, headers={"Authorization": f"Bearer {key}"}) as demo:
        created = await demo.post("/v1/tasks", json={"title": "Demo task"})
        # (the staff key is no admin's: it cannot change the tenant's settings; the admin key can)
        zone = {"time_zone": "Europe/Amsterdam"}
        assert (await demo.put("/v1/tenant/time-zone", json=zone)).status_code == 403
        admin = {"Authorization": f"Bearer {admin_key}"}
        assert (await demo.put("/v1/tenant/time-zone", json=zone, headers=admin)).status_code == 200
    assert created.status_code == 201
    async with httpx.AsyncClient(base_url=tasks_service.url) as browser:
        signed_in = await post_signed_out(
            browser,
            "/console/login",
            {"email": printed[0]["DEMO_STAFF_EMAIL"], "password": printed[0]["DEMO_STAFF_PASSWORD"]},
        )
        assert signed_in.status_code == 303
        assert "Demo task" in (await browser.get("/console/tasks")).text
