"""The rest of the staff API: listing, editing, cancelling, expiry, keys, idempotency and tenant isolation."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from contracts import utcnow
from services.runtime.mongo import connect
from tests.integration.tasks_api import (
    create_contact,
    create_task,
    register_tenant,
    request_signature,
    tenant_events,
)
from tests.support.waiting import eventually


async def test_other_tenants_ids_are_not_found_on_every_route(tasks_service):
    # Given tenant A's contact, task, action and key
    a = await register_tenant(tasks_service.url)
    contact = await create_contact(a)
    task = await create_task(a, contact_id=contact["id"])
    action = await request_signature(a, task["id"], contact["id"])
    key_id = (await a.admin.post("/v1/keys", json={"name": "other"})).json()["key_id"]
    # When tenant B uses those ids
    b = await register_tenant(tasks_service.url)
    own_contact = await create_contact(b)
    own_task = await create_task(b)
    t, c, act = task["id"], contact["id"], action["id"]
    attempts = [
        b.staff.get(f"/v1/contacts/{c}"),
        b.staff.patch(f"/v1/contacts/{c}", json={"name": "X"}),
        b.staff.post(f"/v1/contacts/{c}/archive"),
        b.staff.post(f"/v1/contacts/{c}/portal-links"),
        b.staff.get(f"/v1/tasks/{t}"),
        b.staff.patch(f"/v1/tasks/{t}", json={"title": "X"}),
        b.staff.put(f"/v1/tasks/{t}/phase", json={"phase": "Done"}),
        b.staff.post(f"/v1/tasks/{t}/actions", json={"contact_id": own_contact["id"], "kind": "sign_task"}),
        b.staff.post(f"/v1/tasks/{own_task['id']}/actions", json={"contact_id": c, "kind": "sign_task"}),
        b.staff.post("/v1/tasks", json={"title": "X", "contact_id": c}),
        b.staff.get(f"/v1/tasks/{t}/actions/{act}"),
        b.staff.post(f"/v1/tasks/{t}/actions/{act}/cancel"),
        b.staff.post(f"/v1/tasks/{own_task['id']}/actions/{act}/cancel"),
        b.admin.delete(f"/v1/keys/{key_id}"),
    ]
    responses = await asyncio.gather(*attempts)
    # Then every one is a 404, and tenant A's data is untouched
    assert [r.status_code for r in responses] == [404] * len(attempts), [r.text for r in responses]
    assert all(r.headers["content-type"] == "application/problem+json" for r in responses)
    read = (await a.staff.get(f"/v1/tasks/{t}")).json()
    assert read["title"] == "Kitchen renovation" and read["actions"][0]["status"] == "open"
    listed = (await b.staff.get("/v1/tasks")).json()["items"]
    assert [x["id"] for x in listed] == [own_task["id"]]


async def test_a_retried_post_with_an_idempotency_key_creates_one_task(tasks_service, infra):
    tenant = await register_tenant(tasks_service.url)
    headers = {"Idempotency-Key": "create-kitchen-1"}
    body = {"title": "Kitchen", "description": "once"}
    first, *retries = await asyncio.gather(
        *[tenant.staff.post("/v1/tasks", json=body, headers=headers) for _ in range(3)]
    )
    again = await tenant.staff.post("/v1/tasks", json=body, headers=headers)
    assert {r.status_code for r in [first, *retries, again]} == {201}
    assert {r.json()["id"] for r in [first, *retries, again]} == {first.json()["id"]}
    assert again.json() == first.json()  # the first response, replayed as it was sent
    other_body = await tenant.staff.post("/v1/tasks", json={**body, "title": "Bathroom"}, headers=headers)
    assert other_body.status_code == 422 and "Idempotency-Key" in other_body.json()["detail"]
    assert len((await tenant.staff.get("/v1/tasks")).json()["items"]) == 1

    marker = await create_task(tenant, title="marker")  # events are per task; wait for a later one

    async def created():
        events = await tenant_events(infra.kafka_bootstrap, tenant.tenant_id, "task.created")
        return events if marker["id"] in {e["task_id"] for e in events} else None

    events = await eventually(created, what="task.created events")
    assert sum(e["task_id"] == first.json()["id"] for e in events) == 1


async def test_contacts_are_updated_listed_by_company_or_email_and_archived(tasks_service, infra):
    tenant = await register_tenant(tasks_service.url)
    sanne = await create_contact(tenant, name="Sanne", email="Sanne@Example.nl", company="Jansen BV")
    piet = await create_contact(tenant, name="Piet", email="piet@example.nl", company="Jansen BV")
    await create_contact(tenant, name="Anna", email="anna@elders.nl", company="Elders")

    updated = await tenant.staff.patch(f"/v1/contacts/{piet['id']}", json={"language": "en", "company": None})
    assert updated.status_code == 200 and updated.json()["language"] == "en" and updated.json()["company"] is None
    bad = await tenant.staff.patch(f"/v1/contacts/{piet['id']}", json={"email": "not-an-email"})
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "email"

    by_company = (await tenant.staff.get("/v1/contacts", params={"company": "Jansen BV"})).json()
    assert [c["name"] for c in by_company["items"]] == ["Sanne"]
    by_email = (await tenant.staff.get("/v1/contacts", params={"email": "sanne@example.NL"})).json()
    assert [c["id"] for c in by_email["items"]] == [sanne["id"]]
    first_page = (await tenant.staff.get("/v1/contacts", params={"limit": 2})).json()
    second_page = (await tenant.staff.get("/v1/contacts", params={"limit": 2, "offset": 2})).json()
    assert [c["name"] for c in first_page["items"] + second_page["items"]] == ["Anna", "Piet", "Sanne"]
    assert first_page["next_offset"] == 2 and second_page["next_offset"] is None

    archived = await tenant.staff.post(f"/v1/contacts/{sanne['id']}/archive")
    assert archived.status_code == 200 and archived.json()["archived"] is True
    assert sanne["id"] not in [c["id"] for c in (await tenant.staff.get("/v1/contacts")).json()["items"]]
    assert (await tenant.staff.post(f"/v1/contacts/{sanne['id']}/portal-links")).status_code == 409

    async def contact_events():
        events = await tenant_events(infra.kafka_bootstrap, tenant.tenant_id)
        kinds = [(e["type"], e["payload"].get("archived")) for e in events if e["type"].startswith("contact.")]
        return kinds if len(kinds) == 5 else None

    kinds = await eventually(contact_events, what="contact events")
    assert sorted(kinds) == sorted(
        [("contact.registered", False)] * 3 + [("contact.updated", False), ("contact.updated", True)]
    )


async def test_a_patch_that_empties_a_field_that_cannot_be_empty_is_refused_by_name_and_changes_nothing(
    tasks_service,
):
    # Given a contact and a task
    tenant = await register_tenant(tasks_service.url)
    contact = await create_contact(tenant, name="Sanne", company="Jansen BV")
    task = await create_task(tenant, title="Alpha")
    # When staff send null for fields that cannot be emptied (beside ones that can)
    contact_patch = await tenant.staff.patch(
        f"/v1/contacts/{contact['id']}", json={"name": None, "language": None, "company": None}
    )
    task_patch = await tenant.staff.patch(f"/v1/tasks/{task['id']}", json={"description": None, "contact_id": None})
    # Then each is refused naming those fields, and neither record changed
    assert contact_patch.status_code == 422 and contact_patch.json()["detail"] == "name, language cannot be empty"
    assert [e["field"] for e in contact_patch.json()["errors"]] == ["name", "language"]
    assert task_patch.status_code == 422 and task_patch.json()["detail"] == "description cannot be empty"
    assert [e["field"] for e in task_patch.json()["errors"]] == ["description"]
    assert (await tenant.staff.get(f"/v1/contacts/{contact['id']}")).json()["company"] == "Jansen BV"
    assert (await tenant.staff.get(f"/v1/tasks/{task['id']}")).json()["title"] == "Alpha"


async def test_phases_are_edited_but_a_phase_in_use_stays(tasks_service):
    tenant = await register_tenant(tasks_service.url)
    await create_task(tenant, phase="Approved")
    in_use = await tenant.staff.put("/v1/phases", json={"phases": ["New", "Done"]})
    assert in_use.status_code == 409 and "Approved" in in_use.json()["detail"]
    edited = await tenant.staff.put("/v1/phases", json={"phases": ["New", "Quoted", "Approved", "Done"]})
    assert edited.json() == {"phases": ["New", "Quoted", "Approved", "Done"]}
    assert (await tenant.staff.get("/v1/phases")).json()["phases"] == ["New", "Quoted", "Approved", "Done"]
    assert (await tenant.staff.post("/v1/tasks", json={"title": "Q", "phase": "Quoted"})).status_code == 201
    assert (await tenant.staff.post("/v1/tasks", json={"title": "W", "phase": "In progress"})).status_code == 422
    assert (await tenant.staff.put("/v1/phases", json={"phases": ["New", "new"]})).status_code == 422


async def test_tasks_are_updated_and_listed_by_phase_contact_and_open_action(tasks_service, infra):
    tenant = await register_tenant(tasks_service.url)
    contact = await create_contact(tenant)
    alpha = await create_task(tenant, title="Alpha", contact_id=contact["id"])
    beta = await create_task(tenant, title="Beta", phase="Done")
    gamma = await create_task(tenant, title="Gamma", contact_id=contact["id"])
    await request_signature(tenant, gamma["id"], contact["id"])

    renamed = await tenant.staff.patch(f"/v1/tasks/{beta['id']}", json={"title": "Beta 2", "description": "more"})
    assert renamed.status_code == 200 and renamed.json()["title"] == "Beta 2"

    async def titles(**params) -> list[str]:
        return [t["title"] for t in (await tenant.staff.get("/v1/tasks", params=params)).json()["items"]]

    assert await titles(sort="title") == ["Alpha", "Beta 2", "Gamma"]
    assert await titles(sort="-title", limit=2) == ["Gamma", "Beta 2"]
    assert await titles(phase="Done") == ["Beta 2"]
    assert await titles(contact_id=contact["id"], sort="title") == ["Alpha", "Gamma"]
    assert await titles(has_open_action="true") == ["Gamma"]
    assert await titles(has_open_action="false", sort="title") == ["Alpha", "Beta 2"]
    assert (await tenant.staff.get("/v1/tasks", params={"sort": "colour"})).status_code == 422

    async def updated():
        return await tenant_events(infra.kafka_bootstrap, tenant.tenant_id, "task.updated")

    [event] = await eventually(updated, what="task.updated")
    assert event["payload"]["task"]["title"] == "Beta 2" and event["task_id"] == beta["id"]
    assert alpha["phase"] == "New"


async def test_an_open_action_is_cancelled_once(tasks_service, infra):
    tenant = await register_tenant(tasks_service.url)
    contact = await create_contact(tenant)
    task = await create_task(tenant, contact_id=contact["id"])
    action = await request_signature(tenant, task["id"], contact["id"])
    url = f"/v1/tasks/{task['id']}/actions/{action['id']}"
    cancelled = await tenant.staff.post(f"{url}/cancel", json={"reason": "Wrong contact"})
    assert cancelled.status_code == 200 and cancelled.json()["status"] == "cancelled"
    assert (await tenant.staff.post(f"{url}/cancel")).status_code == 409
    assert (await tenant.staff.get(url)).json()["status"] == "cancelled"

    async def cancellation():
        return await tenant_events(infra.kafka_bootstrap, tenant.tenant_id, "task.action_cancelled")

    [event] = await eventually(cancellation, what="task.action_cancelled")
    assert event["payload"] == {"action_id": action["id"], "contact_id": contact["id"], "reason": "Wrong contact"}


async def test_an_open_action_past_its_expiry_expires_by_itself(tasks_service, infra):
    tenant = await register_tenant(tasks_service.url)
    contact = await create_contact(tenant)
    task = await create_task(tenant, contact_id=contact["id"])
    action = await request_signature(
        tenant, task["id"], contact["id"], expires_at=(utcnow() + timedelta(seconds=1)).isoformat()
    )
    past = await tenant.staff.post(
        f"/v1/tasks/{task['id']}/actions",
        json={
            "contact_id": contact["id"],
            "kind": "sign_task",
            "expires_at": (utcnow() - timedelta(days=1)).isoformat(),
        },
    )
    assert past.status_code == 422

    async def expired():
        read = (await tenant.staff.get(f"/v1/tasks/{task['id']}/actions/{action['id']}")).json()
        return read["status"] == "expired"

    await eventually(expired, timeout=30, what="the action to expire")

    async def expiry_event():
        return await tenant_events(infra.kafka_bootstrap, tenant.tenant_id, "action.expired")

    [event] = await eventually(expiry_event, what="action.expired")
    assert event["payload"]["action_id"] == action["id"] and event["task_id"] == task["id"]


async def test_the_admin_key_issues_and_revokes_staff_keys(tasks_service, infra):
    tenant = await register_tenant(tasks_service.url)
    assert (await tenant.staff.post("/v1/keys", json={"name": "nope"})).status_code == 403
    issued = await tenant.admin.post("/v1/keys", json={"name": "planning", "role": "staff"})
    assert issued.status_code == 201
    new = issued.json()
    headers = {"Authorization": f"Bearer {new['key']}"}
    assert (await tenant.staff.get("/v1/phases", headers=headers)).status_code == 200
    listed = (await tenant.admin.get("/v1/keys")).json()["items"]
    assert {k["name"] for k in listed} == {"admin", "staff", "planning"} and all("key" not in k for k in listed)

    assert (await tenant.admin.delete(f"/v1/keys/{new['key_id']}")).status_code == 204
    assert (await tenant.staff.get("/v1/phases", headers=headers)).status_code == 401

    async def revoked():
        return await tenant_events(infra.kafka_bootstrap, tenant.tenant_id, "staff_key.revoked")

    [event] = await eventually(revoked, what="staff_key.revoked")
    assert event["payload"] == {"key_id": new["key_id"]} and event["actor"]["kind"] == "staff"


async def test_a_due_reminder_is_emitted_once_while_the_action_is_open(tasks_service, infra):
    tenant = await register_tenant(tasks_service.url)
    contact = await create_contact(tenant)
    task = await create_task(tenant, contact_id=contact["id"])
    soon = utcnow() + timedelta(seconds=1)
    action = await request_signature(
        tenant,
        task["id"],
        contact["id"],
        remind_at=[soon.isoformat()],
        expires_at=(soon + timedelta(days=7)).isoformat(),
    )

    async def reminded():
        read = (await tenant.staff.get(f"/v1/tasks/{task['id']}/actions/{action['id']}")).json()
        return read["reminders_sent"] == 1

    await eventually(reminded, timeout=30, what="the reminder to be counted")

    async def reminder_events():
        return await tenant_events(infra.kafka_bootstrap, tenant.tenant_id, "action.reminder_due")

    [event] = await eventually(reminder_events, what="action.reminder_due")
    assert event["payload"] == {"action_id": action["id"], "contact_id": contact["id"], "reminder_number": 1}


async def test_replacing_an_open_action_cancels_it_and_requests_the_successor(tasks_service, infra):
    tenant = await register_tenant(tasks_service.url)
    contact = await create_contact(tenant)
    task = await create_task(tenant, contact_id=contact["id"])
    old = await request_signature(tenant, task["id"], contact["id"])
    replaced = await tenant.staff.post(
        f"/v1/tasks/{task['id']}/actions/{old['id']}/replace",
        json={
            "contact_id": contact["id"],
            "kind": "sign_task",
            "message": "Corrected fields",
            "fields": [{"name": "full_name", "label": "Full name"}],
        },
    )
    assert replaced.status_code == 201, replaced.text
    new = replaced.json()
    assert new["replaces"] == old["id"] and new["status"] == "open"
    statuses = {a["id"]: a["status"] for a in (await tenant.staff.get(f"/v1/tasks/{task['id']}")).json()["actions"]}
    assert statuses == {old["id"]: "cancelled", new["id"]: "open"}

    async def events():
        found = await tenant_events(infra.kafka_bootstrap, tenant.tenant_id)
        kinds = [e["type"] for e in found if e["type"] in ("task.action_cancelled", "task.action_requested")]
        return found if len(kinds) == 3 else None

    found = await eventually(events, what="the cancellation and the new request")
    [cancelled] = [e for e in found if e["type"] == "task.action_cancelled"]
    assert cancelled["payload"]["action_id"] == old["id"] and new["id"] in cancelled["payload"]["reason"]


async def stored_idempotency_records(infra, tenant_id: str) -> list[dict]:
    client = connect(infra.mongodb_uri)
    try:
        return await client["akkoord_tasks"]["idempotency"].find({"_id": {"$regex": f"^{tenant_id}:"}}).to_list(None)
    finally:
        await client.close()


async def test_a_keyed_request_that_returns_a_secret_stores_no_secret_and_is_not_replayed(tasks_service, infra):
    # Given a new API key and a magic link, each asked for with an Idempotency-Key
    tenant = await register_tenant(tasks_service.url)
    contact = await create_contact(tenant)
    key = await tenant.admin.post("/v1/keys", json={"name": "integration"}, headers={"Idempotency-Key": "k-1"})
    link = await tenant.staff.post(f"/v1/contacts/{contact['id']}/portal-links", headers={"Idempotency-Key": "l-1"})
    assert key.status_code == 201 and link.status_code == 201
    secret, token = key.json()["key"], link.json()["url"].split("token=")[1]
    # Then the database keeps neither the key's secret nor the link's token
    records = await stored_idempotency_records(infra, tenant.tenant_id)
    assert len(records) == 2
    assert secret not in repr(records) and token not in repr(records)
    # And a retry with the same key says what was created and that its secret cannot be shown again
    key_again = await tenant.admin.post("/v1/keys", json={"name": "integration"}, headers={"Idempotency-Key": "k-1"})
    link_again = await tenant.staff.post(
        f"/v1/contacts/{contact['id']}/portal-links", headers={"Idempotency-Key": "l-1"}
    )
    assert key_again.status_code == 409 and link_again.status_code == 409
    assert key_again.json()["created"] == {"key_id": key.json()["key_id"]}
    assert link_again.json()["created"]["link_id"] == link.json()["link_id"]
    assert "shown only in the first response" in key_again.json()["detail"]
    assert secret not in key_again.text and token not in link_again.text
    # And nothing was created twice
    listed = (await tenant.admin.get("/v1/keys")).json()["items"]
    assert [k["name"] for k in listed].count("integration") == 1
