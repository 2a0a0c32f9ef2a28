"""The automation service against the real broker and database: rules react to signings, safely."""

from __future__ import annotations

import httpx
import pytest

from contracts import new_id
from contracts.topics import AUTOMATION_EVENTS, TASKS_COMMANDS, TASKS_EVENTS
from tests.support import approval_events as ev
from tests.support.accepted import publish_accepted
from tests.support.bus import publish, read_events
from tests.support.waiting import eventually

JAN = ev.contact()
SEED_RULE = {
    "name": "Approve on signing",
    "trigger": "task.signed",
    "conditions": [{"field": "task.phase", "op": "eq", "value": "Waiting for approval"}],
    "actions": [{"type": "set_phase", "phase": "Approved"}],
}


@pytest.fixture
async def world(stack, infra):
    """A running automation service and a fresh tenant whose staff key it already knows."""
    service = stack.start("automation")
    tenant, secret = new_id(), f"staff-{new_id()}"
    await publish(infra.kafka_bootstrap, TASKS_EVENTS, *ev.tenant(tenant, secret))
    async with httpx.AsyncClient(base_url=service.url, headers={"Authorization": f"Bearer {secret}"}) as client:

        async def key_known():
            return (await client.get("/v1/rules")).status_code == 200

        await eventually(key_known, what="the staff key is projected")
        yield type(
            "World", (), {"client": client, "tenant": tenant, "bootstrap": infra.kafka_bootstrap, "url": service.url}
        )


async def create_rule(world, rule: dict) -> dict:
    response = await world.client.post("/v1/rules", json=rule)
    assert response.status_code == 201, response.text
    return response.json()


async def commands_for(world, task_id: str, topic: str = TASKS_COMMANDS) -> list[dict]:
    return [body for body, _ in await read_events(world.bootstrap, topic) if body.get("task_id") == task_id]


async def relayed_since(world) -> None:
    """A later command of the seed rule is on the bus: automation's relay, which publishes its outbox in
    order, is past anything written before (a command that did not appear by then was never written)."""
    marker = new_id()
    await publish_accepted(
        world.bootstrap, ev.task_signed(world.tenant, marker, "a-marker", JAN, phase="Waiting for approval")
    )
    await eventually(lambda: commands_for(world, marker), what="the marker's command")


async def runs_for(world, task_id: str, count: int = 1) -> list[dict]:
    async def probe():
        runs = (await world.client.get("/v1/rule-runs", params={"task_id": task_id})).json()["runs"]
        return runs if len(runs) >= count else None

    return await eventually(probe, what=f"{count} rule run(s) for task {task_id}")


async def test_the_seed_rule_asks_tasks_to_approve_a_signed_task_waiting_for_approval(world):
    # Given the seed's rule and a task waiting for approval
    rule = await create_rule(world, SEED_RULE)
    task = new_id()
    await publish(world.bootstrap, TASKS_EVENTS, ev.task_created(world.tenant, task, phase="Waiting for approval"))
    # When the task is signed
    signed = ev.task_signed(world.tenant, task, "a1", JAN)
    await publish_accepted(world.bootstrap, signed)
    # Then automation sends task.change_phase with the phase it knows as the expected one, naming the rule
    [command] = await eventually(lambda: commands_for(world, task), what="a task.change_phase command")
    assert command["type"] == "task.change_phase" and command["tenant_id"] == world.tenant
    assert command["payload"] == {
        "expected_phase": "Waiting for approval",
        "phase": "Approved",
        "rule_id": rule["id"],
        "rule_name": "Approve on signing",
    }
    assert command["causation_id"] == signed.event_id and command["correlation_id"] == signed.correlation_id
    assert command["causation_depth"] == 1
    assert command["actor"] == {"kind": "rule", "id": rule["id"], "name": "Approve on signing"}
    # And the run is recorded as matched, with why
    [run] = (await world.client.get(f"/v1/rules/{rule['id']}/runs")).json()["runs"]
    assert run["status"] == "matched" and run["event_id"] == signed.event_id
    assert run["reasons"] == ["task.phase is 'Waiting for approval': eq 'Waiting for approval' holds"]


async def test_the_phase_automation_projected_wins_over_a_stale_snapshot_in_the_signed_event(world):
    # Given a task that moved to "Waiting for approval" (automation saw it: a phase rule ran)
    await create_rule(
        world,
        {
            **SEED_RULE,
            "name": "Watch phases",
            "trigger": "task.phase_changed",
            "conditions": [{"field": "task.phase", "op": "eq", "value": "Never"}],
        },
    )
    await create_rule(world, SEED_RULE)
    task = new_id()
    await publish(
        world.bootstrap,
        TASKS_EVENTS,
        ev.task_created(world.tenant, task, phase="New"),
        ev.phase_changed(world.tenant, task, "New", "Waiting for approval"),
    )
    await runs_for(world, task)
    # When a signing arrives whose task snapshot still says "New"
    await publish_accepted(world.bootstrap, ev.task_signed(world.tenant, task, "a1", JAN, phase="New"))
    # Then the command expects the projected phase
    [command] = await eventually(lambda: commands_for(world, task), what="a task.change_phase command")
    assert command["payload"]["expected_phase"] == "Waiting for approval"


async def test_a_rule_whose_condition_does_not_hold_sends_nothing_and_records_why(world):
    rule = await create_rule(world, SEED_RULE)
    task = new_id()
    await publish_accepted(world.bootstrap, ev.task_signed(world.tenant, task, "a1", JAN, phase="New"))
    [run] = await runs_for(world, task)
    assert run["rule_id"] == rule["id"] and run["status"] == "not_matched" and run["sent"] == []
    assert run["reasons"] == ["task.phase is 'New': eq 'Waiting for approval' does not hold"]
    # The run and any command are written in one transaction: none follows once the relay is past it
    await relayed_since(world)
    assert await commands_for(world, task) == []


async def test_a_chain_of_rule_effects_stops_at_depth_five_and_says_so(world):
    await create_rule(world, SEED_RULE)
    deep, deeper = new_id(), new_id()
    # Given signings that are already four and five rule hops deep
    await publish_accepted(
        world.bootstrap,
        ev.task_signed(world.tenant, deep, "a1", JAN, depth=4),
        ev.task_signed(world.tenant, deeper, "a2", JAN, depth=5),
    )
    # Then the fourth hop still acts (its command is at depth 5) and the fifth stops
    [command] = await eventually(lambda: commands_for(world, deep), what="the depth-5 command")
    assert command["causation_depth"] == 5
    [stopped] = await runs_for(world, deeper)
    assert stopped["status"] == "stopped" and "limit of 5" in stopped["reasons"][0] and stopped["sent"] == []
    await relayed_since(world)
    assert await commands_for(world, deeper) == []


async def test_two_rules_on_one_trigger_both_run_and_a_disabled_rule_does_not(world):
    first = await create_rule(world, SEED_RULE)
    second = await create_rule(
        world,
        {
            **SEED_RULE,
            "name": "Note the approval",
            "actions": [{"type": "add_note", "text": "Approved by the customer"}],
        },
    )
    off = await create_rule(world, {**SEED_RULE, "name": "Switched off"})
    assert (await world.client.post(f"/v1/rules/{off['id']}/disable")).json()["enabled"] is False
    task = new_id()
    await publish_accepted(world.bootstrap, ev.task_signed(world.tenant, task, "a1", JAN))
    runs = await runs_for(world, task, count=2)
    assert sorted(r["rule_id"] for r in runs) == sorted([first["id"], second["id"]])
    [note] = await eventually(lambda: commands_for(world, task, AUTOMATION_EVENTS), what="the timeline note")
    assert note["type"] == "timeline.note_added" and note["payload"]["text"] == "Approved by the customer"
    assert note["payload"]["rule_name"] == "Note the approval" and note["causation_depth"] == 1


async def test_staff_manage_their_own_rules_and_no_other_tenants(world):
    rule = await create_rule(world, SEED_RULE)
    assert (await world.client.get(f"/v1/rules/{rule['id']}")).json()["name"] == "Approve on signing"
    changed = {
        **SEED_RULE,
        "name": "Approve on signing (v2)",
        "conditions": [{"field": "task.phase", "op": "in", "value": ["Waiting for approval", "Review"]}],
    }
    updated = (await world.client.put(f"/v1/rules/{rule['id']}", json=changed)).json()
    assert updated["name"] == "Approve on signing (v2)" and updated["created_at"] == rule["created_at"]
    assert [r["id"] for r in (await world.client.get("/v1/rules")).json()["rules"]] == [rule["id"]]
    bad = await world.client.post("/v1/rules", json={**SEED_RULE, "trigger": "task.created"})
    assert bad.status_code == 422 and bad.headers["content-type"] == "application/problem+json"
    # Another tenant's staff do not see the rule
    other_tenant, other_secret = new_id(), f"staff-{new_id()}"
    await publish(world.bootstrap, TASKS_EVENTS, *ev.tenant(other_tenant, other_secret))
    async with httpx.AsyncClient(base_url=world.url, headers={"Authorization": f"Bearer {other_secret}"}) as other:

        async def status():
            code = (await other.get(f"/v1/rules/{rule['id']}")).status_code
            return code if code != 401 else None

        assert await eventually(status, what="the other tenant's key is known") == 404
        assert (await other.delete(f"/v1/rules/{rule['id']}")).status_code == 404
    assert (await world.client.delete(f"/v1/rules/{rule['id']}")).status_code == 204
    assert (await world.client.get(f"/v1/rules/{rule['id']}")).status_code == 404


async def test_the_seed_rule_also_approves_a_signed_document(world):
    # Given the seed's rule on document signings and a task waiting for approval
    rule = await create_rule(
        world,
        {
            **SEED_RULE,
            "name": "Approve on document signing",
            "trigger": "document.signed",
            "conditions": [*SEED_RULE["conditions"], {"field": "document_id", "op": "eq", "value": "doc-1"}],
        },
    )
    task = new_id()
    await publish(world.bootstrap, TASKS_EVENTS, ev.task_created(world.tenant, task, phase="Waiting for approval"))
    # When the document is signed
    await publish_accepted(world.bootstrap, ev.document_signed(world.tenant, task, "a-doc", JAN))
    # Then the phase change is requested, naming the rule
    [command] = await eventually(lambda: commands_for(world, task), what="a task.change_phase command")
    assert command["payload"] == {
        "expected_phase": "Waiting for approval",
        "phase": "Approved",
        "rule_id": rule["id"],
        "rule_name": "Approve on document signing",
    }


async def test_a_redelivered_signing_runs_the_rule_once(world):
    await create_rule(world, SEED_RULE)
    task = new_id()
    await publish(world.bootstrap, TASKS_EVENTS, ev.task_created(world.tenant, task, phase="Waiting for approval"))
    # Given the same signing delivered twice, and a later signing queued behind it on the same partition
    signed = ev.task_signed(world.tenant, task, "a1", JAN)
    later = ev.task_signed(world.tenant, task, "a2", JAN)
    await publish_accepted(world.bootstrap, signed, signed, later)
    # Then once the later one has its command, the first has exactly one
    commands = await eventually(lambda: _with_cause(world, task, later.event_id), what="the later command")
    assert [c["causation_id"] for c in commands].count(signed.event_id) == 1
    assert len(await runs_for(world, task, count=2)) == 2


async def _with_cause(world, task: str, cause: str) -> list[dict] | None:
    commands = await commands_for(world, task)
    return commands if any(c["causation_id"] == cause for c in commands) else None


async def test_a_run_shows_when_tasks_applied_its_phase_change(world):
    # Given the seed rule sent its command for a signed task
    rule = await create_rule(world, SEED_RULE)
    task = new_id()
    await publish(world.bootstrap, TASKS_EVENTS, ev.task_created(world.tenant, task, phase="Waiting for approval"))
    await publish_accepted(world.bootstrap, ev.task_signed(world.tenant, task, "a1", JAN))
    [command] = await eventually(lambda: commands_for(world, task), what="a task.change_phase command")
    # When tasks applies it (its task.phase_changed is caused by the command and names the rule)
    applied = ev.phase_changed(world.tenant, task, "Waiting for approval", "Approved", rule_name=rule["name"], depth=1)
    applied = applied.model_copy(
        update={
            "causation_id": command["event_id"],
            "payload": applied.payload.model_copy(update={"rule_id": rule["id"]}),
        }
    )
    await publish(world.bootstrap, TASKS_EVENTS, applied)

    # Then the run shows the phase change that followed
    async def marked():
        runs = (await world.client.get(f"/v1/rules/{rule['id']}/runs")).json()["runs"]
        return runs[0].get("applied") if runs else None

    assert await eventually(marked, what="the run marked applied") == {command["event_id"]: applied.event_id}
