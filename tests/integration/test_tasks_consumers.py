"""tasks' consumers: rule commands, signatures, declines and document versions, over the real broker."""

from __future__ import annotations

from contracts import Actor, utcnow
from contracts.messages import (
    ActionDeclined,
    ActionDeclinedPayload,
    ChangePhasePayload,
    ChangeTaskPhase,
    DocumentSigned,
    DocumentSignedPayload,
    RequestActionPayload,
    RequestTaskAction,
    TaskSigned,
    TaskSignedPayload,
)
from contracts.models import FieldSpec
from contracts.topics import PORTAL_EVENTS, TASKS_COMMANDS, dlq
from services.runtime.mongo import connect
from tests.integration.tasks_api import (
    create_contact,
    create_task,
    register_tenant,
    request_document_signature,
    request_signature,
    signed_payload,
    tenant_events,
)
from tests.support.bus import publish, read_all
from tests.support.waiting import eventually

RULE = {"rule_id": "rule-1", "rule_name": "Approve when signed"}


def change_phase(tenant_id: str, task_id: str, expected: str, phase: str) -> ChangeTaskPhase:
    return ChangeTaskPhase(
        tenant_id=tenant_id,
        task_id=task_id,
        causation_depth=1,
        actor=Actor(kind="rule", id=RULE["rule_id"], name=RULE["rule_name"]),
        payload=ChangePhasePayload(expected_phase=expected, phase=phase, **RULE),
    )


async def test_a_redelivered_change_phase_command_changes_the_phase_once(tasks_service, infra):
    # Given a task waiting for approval
    tenant = await register_tenant(tasks_service.url)
    task = await create_task(tenant, phase="Waiting for approval")
    # When automation's command arrives twice (the same envelope, redelivered)
    command = change_phase(tenant.tenant_id, task["id"], "Waiting for approval", "Approved")
    await publish(infra.kafka_bootstrap, TASKS_COMMANDS, command, command)

    # Then the phase changes, and exactly one task.phase_changed names the rule
    async def approved():
        return (await tenant.staff.get(f"/v1/tasks/{task['id']}")).json()["phase"] == "Approved"

    await eventually(approved, what="the phase to become Approved")
    marker = change_phase(tenant.tenant_id, task["id"], "Approved", "Done")  # a later command, to know when
    await publish(infra.kafka_bootstrap, TASKS_COMMANDS, marker)  # the duplicate has surely been handled

    async def both_handled():
        events = await tenant_events(infra.kafka_bootstrap, tenant.tenant_id, "task.phase_changed")
        return events if len(events) >= 2 and events[-1]["payload"]["to_phase"] == "Done" else None

    events = await eventually(both_handled, what="the marker command's phase change")
    assert [e["payload"]["to_phase"] for e in events] == ["Approved", "Done"]
    first = events[0]
    assert first["payload"]["rule_name"] == RULE["rule_name"] and first["payload"]["rule_id"] == RULE["rule_id"]
    assert first["actor"]["kind"] == "rule" and first["causation_id"] == command.event_id
    assert first["correlation_id"] == command.correlation_id


async def test_a_stale_change_phase_command_changes_nothing_and_is_recorded(tasks_service, infra):
    tenant = await register_tenant(tasks_service.url)
    task = await create_task(tenant, phase="In progress")
    command = change_phase(tenant.tenant_id, task["id"], "Waiting for approval", "Approved")
    await publish(infra.kafka_bootstrap, TASKS_COMMANDS, command)
    client = connect(infra.mongodb_uri)
    try:
        rejection = await eventually(
            lambda: client["akkoord_tasks"]["rejections"].find_one({"_id": command.event_id}),
            what="the refused command to be recorded",
        )
    finally:
        await client.close()
    assert "In progress" in rejection["reason"]
    assert (await tenant.staff.get(f"/v1/tasks/{task['id']}")).json()["phase"] == "In progress"
    assert await tenant_events(infra.kafka_bootstrap, tenant.tenant_id, "task.phase_changed") == []


async def test_a_signed_task_completes_its_action(tasks_service, infra):
    tenant = await register_tenant(tasks_service.url)
    contact = await create_contact(tenant)
    task = await create_task(tenant, contact_id=contact["id"])
    action = await request_signature(tenant, task["id"], contact["id"])
    signed = TaskSigned(
        tenant_id=tenant.tenant_id,
        task_id=task["id"],
        actor=Actor(kind="contact", id=contact["id"]),
        payload=TaskSignedPayload(**signed_payload(task, action["id"], contact)),
    )
    await publish(infra.kafka_bootstrap, PORTAL_EVENTS, signed)

    async def completed():
        events = await tenant_events(infra.kafka_bootstrap, tenant.tenant_id, "task.action_completed")
        return events or None

    [event] = await eventually(completed, what="task.action_completed")
    accepted = event["payload"].pop("signing")
    assert event["payload"] == {
        "action_id": action["id"],
        "contact_id": contact["id"],
        "kind": "sign_task",
        "signed_event_id": signed.event_id,
    }
    assert accepted["event_id"] == signed.event_id and accepted["type"] == "task.signed"  # what others act on
    assert event["causation_id"] == signed.event_id and event["actor"]["kind"] == "contact"
    [read] = (await tenant.staff.get(f"/v1/tasks/{task['id']}")).json()["actions"]
    assert read["status"] == "completed" and read["signed_event_id"] == signed.event_id
    # a cancelled-after-signing attempt is a conflict: the action is no longer open
    cancel = await tenant.staff.post(f"/v1/tasks/{task['id']}/actions/{action['id']}/cancel", json={})
    assert cancel.status_code == 409


async def test_a_signed_document_completes_the_action_that_pinned_its_version(tasks_service, infra):
    tenant = await register_tenant(tasks_service.url)
    contact = await create_contact(tenant)
    task = await create_task(tenant, contact_id=contact["id"])
    action, document_id, digest = await request_document_signature(
        infra.kafka_bootstrap, tenant, task["id"], contact["id"]
    )
    assert action["document_version_id"] == "v1" and action["document_digest"] == digest

    signed = DocumentSigned(
        tenant_id=tenant.tenant_id,
        task_id=task["id"],
        actor=Actor(kind="contact", id=contact["id"]),
        payload=DocumentSignedPayload(
            **signed_payload(task, action["id"], contact),
            document_id=document_id,
            document_version_id="v1",
            document_digest=digest,
        ),
    )
    await publish(infra.kafka_bootstrap, PORTAL_EVENTS, signed)

    async def completed():
        [read] = (await tenant.staff.get(f"/v1/tasks/{task['id']}")).json()["actions"]
        return read["status"] == "completed"

    await eventually(completed, what="the sign_document action to complete")
    # (the request's event is relayed from tasks' outbox on its own time, which the completion says nothing about)
    [event] = await eventually(
        lambda: tenant_events(infra.kafka_bootstrap, tenant.tenant_id, "task.action_requested"),
        what="task.action_requested on tasks.events",
    )
    assert event["payload"]["action"]["document_digest"] == digest


async def test_a_declined_action_is_declined(tasks_service, infra):
    tenant = await register_tenant(tasks_service.url)
    contact = await create_contact(tenant)
    task = await create_task(tenant, contact_id=contact["id"])
    action = await request_signature(tenant, task["id"], contact["id"])
    await publish(
        infra.kafka_bootstrap,
        PORTAL_EVENTS,
        ActionDeclined(
            tenant_id=tenant.tenant_id,
            task_id=task["id"],
            actor=Actor(kind="contact", id=contact["id"]),
            payload=ActionDeclinedPayload(
                action_id=action["id"],
                contact_id=contact["id"],
                kind="sign_task",
                reason="The tiles are wrong",
                declined_at=utcnow(),
            ),
        ),
    )

    async def declined():
        [read] = (await tenant.staff.get(f"/v1/tasks/{task['id']}")).json()["actions"]
        return read if read["status"] == "declined" else None

    read = await eventually(declined, what="the action to be declined")
    assert read["close_reason"] == "The tiles are wrong"


async def test_a_signature_for_an_unknown_action_goes_to_the_dead_letter_queue(tasks_service, infra):
    tenant = await register_tenant(tasks_service.url)
    contact = await create_contact(tenant)
    task = await create_task(tenant)
    signed = TaskSigned(
        tenant_id=tenant.tenant_id,
        task_id=task["id"],
        payload=TaskSignedPayload(**signed_payload(task, "no-such-action", contact)),
    )
    await publish(infra.kafka_bootstrap, PORTAL_EVENTS, signed)

    async def dead_lettered():
        return [
            h
            for body, h in await read_all(infra.kafka_bootstrap, dlq(PORTAL_EVENTS))
            if body.get("event_id") == signed.event_id and h.get("group") == "akkoord.tasks"
        ]

    [headers] = await eventually(dead_lettered, what="the unknown action's signature in the DLQ")
    assert "no-such-action" in headers["error"]


def request_action(tenant_id: str, task_id: str, contact_id: str, message: str) -> RequestTaskAction:
    return RequestTaskAction(
        tenant_id=tenant_id,
        task_id=task_id,
        causation_depth=1,
        actor=Actor(kind="rule", id=RULE["rule_id"], name=RULE["rule_name"]),
        payload=RequestActionPayload(
            contact_id=contact_id, kind="sign_task", message=message, fields=[FieldSpec(name="ok", label="OK")], **RULE
        ),
    )


async def test_a_redelivered_request_action_command_requests_the_action_once(tasks_service, infra):
    # Given a task of a contact
    tenant = await register_tenant(tasks_service.url)
    contact = await create_contact(tenant)
    task = await create_task(tenant, contact_id=contact["id"])
    # When a rule's task.request_action arrives twice, and then another one on the same partition
    command = request_action(tenant.tenant_id, task["id"], contact["id"], "first")
    marker = request_action(tenant.tenant_id, task["id"], contact["id"], "marker")
    await publish(infra.kafka_bootstrap, TASKS_COMMANDS, command, command, marker)

    # Then once the later command's action exists, the first command has exactly one
    async def both_requested():
        actions = (await tenant.staff.get(f"/v1/tasks/{task['id']}")).json()["actions"]
        return actions if any(a["message"] == "marker" for a in actions) else None

    actions = await eventually(both_requested, what="the marker command's action")
    assert sorted(a["message"] for a in actions) == ["first", "marker"]
    assert all(a["status"] == "open" and a["contact_id"] == contact["id"] for a in actions)
    # And exactly one task.action_requested answers the first command, naming the rule

    async def marker_published():  # the outbox relays in order: the first command's event is out before it
        events = await tenant_events(infra.kafka_bootstrap, tenant.tenant_id, "task.action_requested")
        return events if any(e["causation_id"] == marker.event_id for e in events) else None

    requested = await eventually(marker_published, what="the marker's task.action_requested on tasks.events")
    first = [e for e in requested if e["causation_id"] == command.event_id]
    assert len(first) == 1 and first[0]["payload"]["rule_name"] == RULE["rule_name"]
    assert first[0]["actor"]["kind"] == "rule" and first[0]["correlation_id"] == command.correlation_id
