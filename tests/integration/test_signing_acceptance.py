"""A signing takes effect once tasks accepts it: a signing of a cancelled action runs no rule, records no
evidence and shows as refused in the timelines, while one of an open action does all of that."""

from __future__ import annotations

import httpx
import pytest

from contracts import Actor
from contracts.messages import TaskSigned, TaskSignedPayload
from contracts.topics import PORTAL_EVENTS
from tests.integration.tasks_api import (
    create_contact,
    create_task,
    register_tenant,
    request_signature,
    signed_payload,
    tenant_events,
)
from tests.support.bus import publish
from tests.support.waiting import eventually

RULE = {
    "name": "Approve on signing",
    "trigger": "task.signed",
    "conditions": [],
    "actions": [{"type": "set_phase", "phase": "Approved"}],
}


@pytest.fixture(scope="module")
def downstream(stack, tasks_service):
    return {name: stack.start(name) for name in ("automation", "signing", "timeline")}


def staff_client(service, tenant) -> httpx.AsyncClient:
    return httpx.AsyncClient(base_url=service.url, headers={"Authorization": f"Bearer {tenant.staff_key}"}, timeout=10)


async def test_only_the_signing_tasks_accepted_runs_rules_records_evidence_and_shows_as_proof(
    infra, tasks_service, downstream
):
    # Given a task with a rule that approves it when signed, and two requests: one cancelled, one open
    tenant = await register_tenant(tasks_service.url)
    contact = await create_contact(tenant)
    task = await create_task(tenant, contact_id=contact["id"], phase="Waiting for approval")
    async with (
        staff_client(downstream["automation"], tenant) as automation,
        staff_client(downstream["signing"], tenant) as signing,
        staff_client(downstream["timeline"], tenant) as timeline,
    ):

        async def rule_created():
            response = await automation.post("/v1/rules", json=RULE)
            return response.json() if response.status_code == 201 else None

        await eventually(rule_created, what="automation knowing the tenant's key")
        cancelled = await request_signature(tenant, task["id"], contact["id"])
        still_open = await request_signature(tenant, task["id"], contact["id"])
        assert (
            await tenant.staff.post(
                f"/v1/tasks/{task['id']}/actions/{cancelled['id']}/cancel", json={"reason": "wrong work order"}
            )
        ).status_code == 200

        # When the portal's signings of both arrive (it took the first before it heard of the cancellation)
        def signing_of(action: dict) -> TaskSigned:
            return TaskSigned(
                tenant_id=tenant.tenant_id,
                task_id=task["id"],
                actor=Actor(kind="contact", id=contact["id"], name=contact["name"]),
                payload=TaskSignedPayload(**signed_payload(task, action["id"], contact)),
            )

        refused, accepted = signing_of(cancelled), signing_of(still_open)
        await publish(infra.kafka_bootstrap, PORTAL_EVENTS, refused, accepted)

        # Then tasks refuses the first, saying so, and completes the second carrying the signing it accepted
        [rejection] = await eventually(
            lambda: tenant_events(infra.kafka_bootstrap, tenant.tenant_id, "signing.rejected"), what="signing.rejected"
        )
        assert rejection["payload"]["signed_event_id"] == refused.event_id
        assert rejection["payload"]["action_status"] == "cancelled"
        [completion] = await eventually(
            lambda: tenant_events(infra.kafka_bootstrap, tenant.tenant_id, "task.action_completed"),
            what="task.action_completed",
        )
        assert completion["payload"]["signing"]["event_id"] == accepted.event_id

        # And the rule ran for the accepted signing only
        async def approved():
            return (await tenant.staff.get(f"/v1/tasks/{task['id']}")).json()["phase"] == "Approved"

        await eventually(approved, what="the rule approving the task")
        runs = (await automation.get("/v1/rule-runs", params={"task_id": task["id"]})).json()["runs"]
        assert [r["event_id"] for r in runs] == [accepted.event_id]

        # And signing recorded the evidence of the accepted signing only
        async def evidence():
            records = (await signing.get("/v1/evidence", params={"task_id": task["id"]})).json()["evidence"]
            return records or None

        records = await eventually(evidence, what="the evidence of the accepted signing")
        assert [r["action_id"] for r in records] == [still_open["id"]]

        # And both timelines show the refusal, and proof of the accepted signing only
        async def entries(audience: str):
            body = (await timeline.get(f"/v1/tasks/{task['id']}/timeline", params={"audience": audience})).json()
            kinds = [(e["kind"], e["data"].get("action_id")) for e in body["entries"]]
            return (
                kinds
                if ("signing.rejected", cancelled["id"]) in kinds and ("task.signed", still_open["id"]) in kinds
                else None
            )

        for audience in ("staff", "portal"):
            kinds = await eventually(lambda audience=audience: entries(audience), what=f"the {audience} timeline")
            assert ("task.signed", cancelled["id"]) not in kinds
