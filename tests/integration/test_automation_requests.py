"""A rule that requests another action, through tasks, automation, portal and timeline as processes."""

from __future__ import annotations

from datetime import datetime, timedelta

import httpx
import pytest

from contracts import Actor
from contracts.messages import DocumentSigned, DocumentSignedPayload
from contracts.topics import PORTAL_EVENTS
from services.runtime.mongo import connect
from tests.integration.portal_steps import open_actions, signed_in
from tests.integration.tasks_api import (
    create_contact,
    create_task,
    register_tenant,
    request_document_signature,
    signed_payload,
)
from tests.support.bus import publish
from tests.support.waiting import eventually

ASK_FOR_THE_TASK = {
    "name": "Then sign the task",
    "trigger": "document.signed",
    "actions": [
        {
            "type": "request_action",
            "kind": "sign_task",
            "message": "Now approve the work",
            "fields": [{"name": "approved_by", "label": "Approved by"}],
            "expires_in_hours": 72,
            "remind_in_hours": [24, 48],
        }
    ],
}


@pytest.fixture
async def world(stack, infra, tasks_service):
    """tasks, automation, portal and timeline running; a premium tenant whose key automation knows; a contact
    asked to sign a work order on a task."""
    automation, portal, timeline = stack.start("automation"), stack.start("portal"), stack.start("timeline")
    tenant = await register_tenant(tasks_service.url)
    contact = await create_contact(tenant)
    task = await create_task(tenant, contact_id=contact["id"], phase="Waiting for approval")
    action, document_id, digest = await request_document_signature(
        infra.kafka_bootstrap, tenant, task["id"], contact["id"]
    )
    auth = {"Authorization": f"Bearer {tenant.staff_key}"}
    async with (
        httpx.AsyncClient(base_url=automation.url, headers=auth) as rules,
        httpx.AsyncClient(base_url=timeline.url, headers=auth) as timelines,
    ):

        async def key_known():
            return (await rules.get("/v1/rules")).status_code == 200

        await eventually(key_known, what="automation knows the tenant's staff key")
        yield type(
            "World",
            (),
            {
                "tenant": tenant,
                "contact": contact,
                "task": task,
                "action": action,
                "document_id": document_id,
                "digest": digest,
                "rules": rules,
                "timelines": timelines,
                "portal": portal,
                "infra": infra,
            },
        )
    await tenant.staff.aclose()
    await tenant.admin.aclose()


def document_signed(world) -> DocumentSigned:
    """What the portal emits when the contact signs the work order."""
    return DocumentSigned(
        tenant_id=world.tenant.tenant_id,
        task_id=world.task["id"],
        actor=Actor(kind="contact", id=world.contact["id"], name=world.contact["name"]),
        payload=DocumentSignedPayload(
            **signed_payload(world.task, world.action["id"], world.contact),
            document_id=world.document_id,
            document_version_id="v1",
            document_digest=world.digest,
        ),
    )


async def actions_of(world) -> list[dict]:
    return (await world.tenant.staff.get(f"/v1/tasks/{world.task['id']}")).json()["actions"]


async def test_a_rule_on_a_signed_document_asks_the_signer_to_sign_the_task(world):
    # Given a rule: when a document is signed, ask the same contact to sign the task
    rule = (await world.rules.post("/v1/rules", json=ASK_FOR_THE_TASK)).json()
    # When the contact signs the work order in the portal
    await publish(world.infra.kafka_bootstrap, PORTAL_EVENTS, document_signed(world))  # tasks accepts it

    # Then tasks holds a new open sign_task action for that contact, with the rule's fields and message
    async def asked():
        found = [a for a in await actions_of(world) if a["kind"] == "sign_task" and a["status"] == "open"]
        return found or None

    [asked_for] = await eventually(asked, what="an open sign_task action requested by the rule")
    assert asked_for["contact_id"] == world.contact["id"] and asked_for["message"] == "Now approve the work"
    assert [f["name"] for f in asked_for["fields"]] == ["approved_by"]
    # with the rule's deadline and reminders counted from when tasks opened it
    opened = datetime.fromisoformat(asked_for["created_at"])
    assert abs(datetime.fromisoformat(asked_for["expires_at"]) - opened - timedelta(hours=72)) < timedelta(minutes=1)
    assert [round((datetime.fromisoformat(r) - opened) / timedelta(hours=1)) for r in asked_for["remind_at"]] == [
        24,
        48,
    ]

    # And the work order's action is completed: tasks does that from the signing itself, which it reads apart
    # from (and not necessarily before) the rule's command that asked for the new one
    async def work_order_completed():
        statuses = {a["id"]: a["status"] for a in await actions_of(world)}
        return statuses if statuses.get(world.action["id"]) == "completed" else None

    assert await eventually(work_order_completed, what="the work order's action completed") == {
        world.action["id"]: "completed",
        asked_for["id"]: "open",
    }

    # And the rule's run shows the command it sent and the request that applied it
    async def applied():
        [run] = (await world.rules.get(f"/v1/rules/{rule['id']}/runs")).json()["runs"]
        return run if run.get("applied") else None

    run = await eventually(applied, what="the run marked applied")
    [sent] = run["sent"]
    assert sent["type"] == "task.request_action" and sent["payload"]["contact_id"] == world.contact["id"]
    assert list(run["applied"]) == [sent["event_id"]]

    # And the contact finds it under Open actions in the portal
    async with signed_in(world.portal, world.tenant.tenant_id, world.contact["id"]) as customer:

        async def in_portal():
            found = [a for a in await open_actions(customer) if a["action_id"] == asked_for["id"]]
            return found or None

        [shown] = await eventually(in_portal, what="the requested action in the portal's open actions")
    assert shown["kind"] == "sign_task"

    # And the staff timeline names the rule that asked; the portal timeline does not
    async def requested_entries(audience: str) -> list[dict] | None:
        response = await world.timelines.get(
            f"/v1/tasks/{world.task['id']}/timeline", params={"audience": audience, "kind": "task.action_requested"}
        )
        found = [e for e in response.json().get("entries", []) if e["action_id"] == asked_for["id"]]
        return found or None

    [staff] = await eventually(lambda: requested_entries("staff"), what="the staff timeline's request entry")
    [portal] = await eventually(lambda: requested_entries("portal"), what="the portal timeline's request entry")
    assert staff["summary"] == "Signature requested from Sanne Jansen by rule 'Then sign the task'"
    assert staff["actor"]["kind"] == "rule" and staff["actor"]["id"] == rule["id"]
    assert portal["summary"] == "Signature requested from Sanne Jansen" and "rule_name" not in portal["data"]


async def test_a_rule_asking_an_archived_contact_changes_nothing_and_tasks_records_why(world):
    # Given a rule that asks a named contact, who is archived meanwhile
    other = await create_contact(world.tenant, name="Piet", email="piet@example.nl")
    archived = await world.tenant.staff.post(f"/v1/contacts/{other['id']}/archive")
    assert archived.status_code == 200 and archived.json()["archived"] is True, archived.text
    rule = {
        **ASK_FOR_THE_TASK,
        "name": "Ask Piet",
        "actions": [{**ASK_FOR_THE_TASK["actions"][0], "contact_id": other["id"]}],
    }
    created = await world.rules.post("/v1/rules", json=rule)
    assert created.status_code == 201, created.text
    # When the document is signed
    await publish(world.infra.kafka_bootstrap, PORTAL_EVENTS, document_signed(world))  # tasks accepts it

    # Then automation sent the request, and tasks refused it and recorded why
    async def command_sent():
        runs = (await world.rules.get(f"/v1/rules/{created.json()['id']}/runs")).json()["runs"]
        return runs[0]["sent"][0]["event_id"] if runs and runs[0]["sent"] else None

    command_id = await eventually(command_sent, what="the rule's task.request_action")
    client = connect(world.infra.mongodb_uri)
    try:
        rejection = await eventually(
            lambda: client["akkoord_tasks"]["rejections"].find_one({"_id": command_id}),
            what="the refused request recorded by tasks",
        )
    finally:
        await client.close()
    assert rejection["kind"] == "task.request_action" and "archived" in rejection["reason"]
    assert rejection["tenant_id"] == world.tenant.tenant_id

    # And no action was added for Piet (the work order's action was completed by the signing)
    async def completed():
        return {a["id"]: a["status"] for a in await actions_of(world)} == {world.action["id"]: "completed"}

    await eventually(completed, what="only the signed work order's action, completed")


async def test_a_rule_request_that_can_never_apply_is_refused_when_written(world):
    bad = {**ASK_FOR_THE_TASK, "actions": [{"type": "request_action", "kind": "sign_document"}]}
    response = await world.rules.post("/v1/rules", json=bad)
    assert response.status_code == 422 and response.headers["content-type"] == "application/problem+json"
    assert "document_id" in response.text
