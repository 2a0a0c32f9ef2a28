"""The timeline's integrity: a hash chain that catches tampering, and a rebuild from Kafka equal to the live one."""

from __future__ import annotations

import asyncio
import json
import sys
from datetime import timedelta

import httpx
import pytest

from contracts import Actor, new_id, utcnow
from contracts.messages import NoteAddedPayload, TimelineNoteAdded
from contracts.topics import AUTOMATION_EVENTS, SIGNING_EVENTS, TASKS_EVENTS, TIMELINE_CHAIN
from services.runtime.config import DEV_SECRET
from services.runtime.mongo import connect
from tests.support import approval_events as ev
from tests.support.accepted import accepted_decline, publish_accepted
from tests.support.bus import publish, read_all
from tests.support.waiting import eventually

JAN = ev.contact()


@pytest.fixture
async def world(stack, infra):
    service = stack.start("timeline")
    tenant, secret = new_id(), f"staff-{new_id()}"
    await publish(infra.kafka_bootstrap, TASKS_EVENTS, *ev.tenant(tenant, secret))
    async with httpx.AsyncClient(base_url=service.url, headers={"Authorization": f"Bearer {secret}"}) as client:
        yield type(
            "World",
            (),
            {
                "client": client,
                "tenant": tenant,
                "bootstrap": infra.kafka_bootstrap,
                "mongodb_uri": infra.mongodb_uri,
                "env": stack.env("timeline"),
                "running": {n for n, p in stack.running.items() if p.popen.poll() is None},
                "stack": stack,
            },
        )


def note(world, task: str, text: str = "Invoice this") -> TimelineNoteAdded:
    return TimelineNoteAdded(
        tenant_id=world.tenant,
        task_id=task,
        actor=Actor(kind="rule", id="r1", name="Note it"),
        payload=NoteAddedPayload(text=text, rule_id="r1", rule_name="Note it"),
    )


async def a_signed_task(world) -> str:
    task = new_id()
    await publish(
        world.bootstrap, TASKS_EVENTS, ev.task_created(world.tenant, task), ev.requested(world.tenant, task, JAN, "a1")
    )
    await publish_accepted(world.bootstrap, ev.task_signed(world.tenant, task, "a1", JAN))
    await publish(world.bootstrap, SIGNING_EVENTS, ev.sealed(world.tenant, task, "a1"))
    await publish(world.bootstrap, AUTOMATION_EVENTS, note(world, task))
    # created, requested, signed (the proof, from tasks' acceptance), completed, sealed, note
    await eventually(lambda: timeline(world, task, expect=6), what="six staff entries")
    if "signing" in world.running:
        # signing, when running beside this test, reacts to the signing with an evidence record
        await eventually(lambda: timeline(world, task, expect=7), what="signing's evidence entry")
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
    heads = (
        await world.client.get(
            f"/internal/v1/tasks/{task}/timeline/head",
            params={"tenant_id": world.tenant},
            headers={"X-Internal-Token": DEV_SECRET},
        )
    ).json()["heads"]
    assert heads["staff"] == {"seq": staff_count, "hash": verdict["audiences"]["staff"]["head"]}
    # When someone changes the signing entry in the database
    client = connect(world.mongodb_uri)
    try:
        changed = await client["akkoord_timeline"]["timeline_entries"].update_one(
            {"tenant_id": world.tenant, "task_id": task, "kind": "task.signed", "audience": "staff"},
            {"$set": {"data.ip": "198.51.100.1"}},
        )
        assert changed.modified_count == 1
    finally:
        await client.close()
    # Then verify names the broken entry
    verdict = (await world.client.get(f"/v1/tasks/{task}/timeline/verify")).json()
    staff = verdict["audiences"]["staff"]
    assert verdict["valid"] is False and staff["valid"] is False and "changed" in staff["reason"]
    assert verdict["audiences"]["portal"]["valid"] is True


async def test_a_rule_note_shows_on_the_staff_timeline_only(world):
    task = await a_signed_task(world)
    staff = await timeline(world, task)
    assert (
        next(e for e in staff if e["kind"] == "timeline.note_added")["summary"] == "Note (rule 'Note it'): Invoice this"
    )
    assert "timeline.note_added" not in {e["kind"] for e in await timeline(world, task, "portal")}


async def run_rebuild(world) -> tuple[int, str, str]:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "services.timeline",
        "rebuild",
        env=world.env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(process.communicate(), 180)
    return process.returncode, out.decode(), err.decode()


async def rebuilt(world) -> dict:
    """Stop the timeline service, rebuild its projection from Kafka, start it again: the rebuild's report."""
    world.stack.running["timeline"].stop()
    code, out, err = await run_rebuild(world)
    world.stack.start("timeline")
    assert code == 0, err[-3000:]
    return json.loads(out.strip().splitlines()[-1])


async def both_timelines(world, task: str) -> dict[str, list[dict]]:
    return {a: await timeline(world, task, a) for a in ("staff", "portal")}


async def test_a_rebuild_from_kafka_gives_the_same_timelines_as_the_live_projection(world):
    # Given live timelines of a signed task
    task = await a_signed_task(world)
    live = await both_timelines(world, task)
    # And a rebuild is refused while the live projection is consuming
    code, _, err = await run_rebuild(world)
    assert code != 0 and "stop the timeline service" in err
    # And a task whose events arrived while the timeline service was stopped (never projected live)
    world.stack.running["timeline"].stop()
    later = new_id()
    await publish(
        world.bootstrap,
        TASKS_EVENTS,
        ev.task_created(world.tenant, later),
        ev.requested(world.tenant, later, JAN, "b1"),
    )
    await publish(world.bootstrap, AUTOMATION_EVENTS, note(world, later, "Arrived while stopped"))
    # When the projection is dropped and rebuilt from the beginning of every topic, twice
    first = await rebuilt(world)
    assert first["events_read"] >= 8 and first["entries_restored"] >= 8 and first["entries_changed"] == 0
    assert first["entries_appended"] >= 4  # the later task's entries: appended after the recorded ones
    after_first = await both_timelines(world, later)
    # And every entry, the live ones and the ones the rebuild appended, has its place on timeline.chain
    places = {
        (b["task_id"], b["payload"]["audience"], b["payload"]["seq"]): b["payload"]["hash"]
        for b, _ in await read_all(world.bootstrap, TIMELINE_CHAIN)
        if b.get("tenant_id") == world.tenant
    }
    for t, entries in ((task, live), (later, after_first)):
        assert {(t, a, e["seq"]): e["hash"] for a in entries for e in entries[a]} == {
            k: v for k, v in places.items() if k[0] == t
        }
    second = await rebuilt(world)
    assert second["entries_changed"] == 0
    # Then each timeline holds the same entries as live, at the same places and with the same hashes
    assert await both_timelines(world, task) == live
    # And the entries that were never recorded kept the places the first rebuild gave them
    assert await both_timelines(world, later) == after_first
    assert [e["kind"] for e in sorted(after_first["staff"], key=lambda e: e["seq"])] == [
        "task.created",
        "task.action_requested",
        "timeline.note_added",
    ]
    for t in (task, later):
        assert (await world.client.get(f"/v1/tasks/{t}/timeline/verify")).json()["valid"] is True


async def test_a_head_anchored_before_a_rebuild_is_still_the_head_after_it_though_topics_arrived_interleaved(world):
    # Given one task's events from three topics that reach the timeline out of the order they happened in:
    # the seal first (before the request that names its contact), then a note, a decline, and the task itself
    task, start = new_id(), utcnow() - timedelta(minutes=5)

    def at(event, seconds):
        return event.model_copy(update={"occurred_at": start + timedelta(seconds=seconds)})

    created, requested = at(ev.task_created(world.tenant, task), 0), at(ev.requested(world.tenant, task, JAN, "a1"), 1)
    # (a decline reaches the timeline as tasks' acceptance of it, which carries it)
    declined = at(accepted_decline(at(ev.declined(world.tenant, task, "a1", JAN), 2)), 2)
    sealed = at(ev.sealed(world.tenant, task, "a1"), 3)
    later_decline = at(accepted_decline(at(ev.declined(world.tenant, task, "a2", JAN), 5)), 5)
    arrivals = [
        (SIGNING_EVENTS, [sealed], 1),
        (AUTOMATION_EVENTS, [at(note(world, task), 4)], 2),
        (TASKS_EVENTS, [declined], 3),
        (TASKS_EVENTS, [created, requested], 5),
        # the decline redelivered, and a later decline on its partition to know the copy was handled
        (TASKS_EVENTS, [declined, later_decline], 6),
    ]
    for topic, events, staff_entries in arrivals:
        await publish(world.bootstrap, topic, *events)
        await eventually(lambda n=staff_entries: timeline(world, task, expect=n), what=f"{staff_entries} staff entries")
    live = await both_timelines(world, task)
    # (pages are newest first by when things happened; the chain is in the order they arrived)
    assert [e["kind"] for e in sorted(live["staff"], key=lambda e: e["seq"])] == [
        "signature.sealed",
        "timeline.note_added",
        "action.declined",
        "task.created",
        "task.action_requested",
        "action.declined",
    ]
    live_seal = next(e for e in live["staff"] if e["kind"] == "signature.sealed")
    assert live_seal["seq"] == 1 and live_seal["contact_id"] is None  # the request was not known yet
    # And the heads another service anchored (signing puts them in its evidence)
    anchored = (
        await world.client.get(
            f"/internal/v1/tasks/{task}/timeline/head",
            params={"tenant_id": world.tenant},
            headers={"X-Internal-Token": DEV_SECRET},
        )
    ).json()["heads"]
    verified = (await world.client.get(f"/v1/tasks/{task}/timeline/verify")).json()
    assert verified["valid"] and {a: v["head"] for a, v in verified["audiences"].items()} == {
        a: h["hash"] for a, h in anchored.items()
    }
    # When the projection is rebuilt from Kafka
    report = await rebuilt(world)
    assert report["entries_changed"] == 0
    # Then both timelines are exactly the live ones: same entries, same places, same hashes
    assert await both_timelines(world, task) == live
    # And each anchored head is still the hash of the entry at its place, and still the head of a valid chain
    for audience, head in anchored.items():
        assert next(e for e in live[audience] if e["seq"] == head["seq"])["hash"] == head["hash"]
    after = (await world.client.get(f"/v1/tasks/{task}/timeline/verify")).json()
    assert after["valid"] and {a: v["head"] for a, v in after["audiences"].items()} == {
        a: h["hash"] for a, h in anchored.items()
    }
    # And the live projection carries on from there: the next entry follows the anchored head
    await publish(world.bootstrap, AUTOMATION_EVENTS, note(world, task, "After the rebuild"))
    newest = (
        await eventually(
            lambda: timeline(world, task, expect=len(live["staff"]) + 1), what="the entry after the rebuild"
        )
    )[0]
    assert newest["seq"] == anchored["staff"]["seq"] + 1
    assert (await world.client.get(f"/v1/tasks/{task}/timeline/verify")).json()["valid"] is True


async def forget_everything_on(bootstrap: str, topic: str) -> None:
    """What 14 days of retention does to a topic: its records up to now are gone (Kafka's DeleteRecords)."""
    from aiokafka import AIOKafkaConsumer, TopicPartition
    from aiokafka.admin import AIOKafkaAdminClient, RecordsToDelete

    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap)
    await consumer.start()
    try:
        await consumer._client.force_metadata_update()  # aiokafka learns a topic's partitions lazily
        partitions = [TopicPartition(topic, p) for p in sorted(consumer.partitions_for_topic(topic) or [])]
        assert partitions
        ends = await consumer.end_offsets(partitions)
    finally:
        await consumer.stop()
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        await admin.delete_records({tp: RecordsToDelete(before_offset=end) for tp, end in ends.items()})
    finally:
        await admin.close()


# Last in this module: the events it takes away from Kafka would make any later rebuild refuse, as it should.
async def test_a_rebuild_that_would_lose_entries_kafka_no_longer_holds_is_refused_and_keeps_the_timelines(world):
    # Given a task whose note reached the live timelines
    task = new_id()
    await publish(world.bootstrap, TASKS_EVENTS, ev.task_created(world.tenant, task))
    await publish(world.bootstrap, AUTOMATION_EVENTS, note(world, task, "Only the timeline remembers this"))
    live = await eventually(lambda: timeline(world, task, expect=2), what="the task and its note")
    live_portal = await timeline(world, task, "portal")
    # And the note's event is no longer on Kafka (retention passed)
    await forget_everything_on(world.bootstrap, AUTOMATION_EVENTS)
    # When the timeline is rebuilt
    world.stack.running["timeline"].stop()
    code, out, err = await run_rebuild(world)
    world.stack.start("timeline")
    # Then the rebuild is refused, naming what it would lose
    assert code != 0 and "rebuild refused" in err and "no longer on Kafka" in err, err[-3000:]
    report = json.loads(out.strip().splitlines()[-1])
    assert report["switched"] is False and report["entries_lost"] >= 1
    note_entry = next(e for e in live if e["kind"] == "timeline.note_added")
    assert note_entry["id"] in {lost["id"] for lost in report["lost"]} or report["entries_lost"] > len(report["lost"])
    # And the live timelines are as they were, and still verify
    assert await timeline(world, task) == live and await timeline(world, task, "portal") == live_portal
    assert (await world.client.get(f"/v1/tasks/{task}/timeline/verify")).json()["valid"] is True
