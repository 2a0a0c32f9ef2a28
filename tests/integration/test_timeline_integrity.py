"""The timeline's integrity: a hash chain that catches tampering, and a rebuild from Kafka equal to the live one."""

from __future__ import annotations

import asyncio
import json
import sys

import httpx
import pytest

from contracts import Actor, new_id
from contracts.messages import NoteAddedPayload, TimelineNoteAdded
from contracts.topics import AUTOMATION_EVENTS, PORTAL_EVENTS, SIGNING_EVENTS, TASKS_EVENTS
from services.runtime.config import DEV_SECRET
from services.runtime.mongo import connect
from tests import approval_events as ev
from tests.support.bus import publish
from tests.support.waiting import eventually

JAN = ev.contact()
COMPARED = ("id", "kind", "at", "audience", "summary", "actor", "data", "action_id")


@pytest.fixture
async def world(stack, infra):
    service = stack.start("timeline")
    tenant, secret = new_id(), f"staff-{new_id()}"
    await publish(infra.kafka_bootstrap, TASKS_EVENTS, *ev.tenant(tenant, secret))
    async with httpx.AsyncClient(base_url=service.url, headers={"Authorization": f"Bearer {secret}"}) as client:
        yield type("World", (), {"client": client, "tenant": tenant, "bootstrap": infra.kafka_bootstrap,
                                 "mongodb_uri": infra.mongodb_uri, "env": stack.env("timeline"),
                                 "running": set(stack.running)})


async def a_signed_task(world) -> str:
    task = new_id()
    await publish(world.bootstrap, TASKS_EVENTS, ev.task_created(world.tenant, task),
                  ev.requested(world.tenant, task, JAN, "a1"))
    await publish(world.bootstrap, PORTAL_EVENTS, ev.task_signed(world.tenant, task, "a1", JAN))
    await publish(world.bootstrap, SIGNING_EVENTS, ev.sealed(world.tenant, task, "a1"))
    await publish(world.bootstrap, AUTOMATION_EVENTS, TimelineNoteAdded(
        tenant_id=world.tenant, task_id=task, actor=Actor(kind="rule", id="r1", name="Note it"),
        payload=NoteAddedPayload(text="Invoice this", rule_id="r1", rule_name="Note it")))
    await eventually(lambda: timeline(world, task, expect=5), what="five staff entries")
    if "signing" in world.running:
        # signing, when running beside this test, reacts to the signing with an evidence record
        await eventually(lambda: timeline(world, task, expect=6), what="signing's evidence entry")
    return task


async def timeline(world, task: str, audience: str = "staff", expect: int = 0) -> list[dict] | None:
    response = await world.client.get(f"/v1/tasks/{task}/timeline", params={"audience": audience})
    entries = response.json()["entries"] if response.status_code == 200 else []
    return entries if len(entries) >= expect else None


async def test_an_untouched_timeline_verifies_and_a_tampered_entry_is_caught(world):
    # Given a signed task whose timelines verify
    task = await a_signed_task(world)
    verdict = (await world.client.get(f"/v1/tasks/{task}/timeline/verify")).json()
    staff_count = len(await timeline(world, task))
    assert verdict["valid"] and verdict["audiences"]["staff"]["entries"] == staff_count >= 5
    assert verdict["audiences"]["portal"]["entries"] == 3
    # And the heads another service can anchor are the last links that verify computed
    heads = (await world.client.get(f"/internal/v1/tasks/{task}/timeline/head", params={"tenant_id": world.tenant},
                                    headers={"X-Internal-Token": DEV_SECRET})).json()["heads"]
    assert heads["staff"] == {"seq": staff_count, "hash": verdict["audiences"]["staff"]["head"]}
    # When someone changes the signing entry in the database
    client = connect(world.mongodb_uri)
    try:
        changed = await client["akkoord_timeline"]["timeline_entries"].update_one(
            {"tenant_id": world.tenant, "task_id": task, "kind": "task.signed", "audience": "staff"},
            {"$set": {"data.ip": "198.51.100.1"}})
        assert changed.modified_count == 1
    finally:
        client.close()
    # Then verify names the broken entry
    verdict = (await world.client.get(f"/v1/tasks/{task}/timeline/verify")).json()
    staff = verdict["audiences"]["staff"]
    assert verdict["valid"] is False and staff["valid"] is False and "changed" in staff["reason"]
    assert verdict["audiences"]["portal"]["valid"] is True


async def test_a_rule_note_shows_on_the_staff_timeline_only(world):
    task = await a_signed_task(world)
    staff = await timeline(world, task)
    assert next(e for e in staff if e["kind"] == "timeline.note_added")["summary"] == "Note (rule 'Note it'): Invoice this"
    assert "timeline.note_added" not in {e["kind"] for e in await timeline(world, task, "portal")}


async def test_a_rebuild_from_kafka_gives_the_same_timelines_as_the_live_projection(world):
    # Given live timelines of a signed task
    task = await a_signed_task(world)
    live = {a: await timeline(world, task, a) for a in ("staff", "portal")}
    # When the projection is dropped and rebuilt from the beginning of every topic, twice
    for _ in range(2):
        process = await asyncio.create_subprocess_exec(sys.executable, "-m", "services.timeline", "rebuild",
                                                       env=world.env, stdout=asyncio.subprocess.PIPE)
        out, _ = await asyncio.wait_for(process.communicate(), 120)
        assert process.returncode == 0
        report = json.loads(out.decode().strip().splitlines()[-1])
        assert report["events_read"] >= 5 and report["entries"] >= 8
        # Then each timeline holds the same entries, and its hash chain verifies
        for audience, entries in live.items():
            rebuilt = await timeline(world, task, audience)
            assert [{k: e.get(k) for k in COMPARED} for e in rebuilt] == \
                [{k: e.get(k) for k in COMPARED} for e in entries]
        assert (await world.client.get(f"/v1/tasks/{task}/timeline/verify")).json()["valid"] is True
