"""The run kit's delivery guarantees, against the real broker and database."""

from __future__ import annotations

import asyncio
import json
import os
import sys
import uuid
from collections import Counter
from datetime import timedelta

import pytest
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from prometheus_client import REGISTRY

from contracts.errors import PermanentFailure
from contracts.messages import TaskCreated
from contracts.topics import TASKS_EVENTS, dlq
from services.runtime.bus import ensure_topics, make_broker
from services.runtime.consumer import Consumer, Tracking, register
from services.runtime.dlq import list_dead_letters, replay
from services.runtime.mongo import connect
from services.runtime.outbox import Outbox, OutboxRelay, RelayLease
from services.runtime.registry import Handlers
from services.runtime.telemetry import setup_tracing
from tests.integration.runtime_kit import task_created
from tests.support.bus import publish, read_all
from tests.support.waiting import eventually


class Group:
    """A consumer group of the run kit on its own database, wired like a service, handling task.created."""

    def __init__(self, infra, on_task_created, **options):
        self.client = connect(infra.mongodb_uri)
        self.db = self.client[f"runtime_{uuid.uuid4().hex[:8]}"]
        self.outbox = Outbox(self.client, self.db)
        self.broker = make_broker(infra.kafka_bootstrap, "test", setup_tracing("test", None))
        self.tenant, self.group = uuid.uuid4().hex, f"test-{uuid.uuid4().hex}"
        self.bootstrap = infra.kafka_bootstrap
        wants, topics = options.pop("wants", None), options.pop("topics", (TASKS_EVENTS,))
        register(
            self.broker,
            Tracking(self.outbox),
            Consumer(
                group=self.group,
                topics=topics,
                handlers=Handlers().on(TaskCreated, on_task_created),
                description="test",
                wants=wants,
            ),
            **options,
        )

    async def __aenter__(self) -> Group:
        await ensure_topics(self.bootstrap)
        await self.outbox.ensure_indexes()
        await self.broker.start()
        return self

    async def __aexit__(self, *exc) -> None:
        await self.broker.stop()
        await self.client.close()


@pytest.fixture
async def kit(infra):
    """A consumer group with a counting handler and a poison handler."""
    attempts: list[str] = []

    async def count(event, session):
        if event.payload.task.title == "poison":
            raise PermanentFailure("this task can never be handled")
        if event.payload.task.title == "flaky-forever":
            attempts.append(event.event_id)
            raise RuntimeError("still broken")
        await kit.db["effects"].insert_one({"event_id": event.event_id, "tenant_id": event.tenant_id}, session=session)

    async with Group(infra, count, max_attempts=3, backoff=0.01) as kit:
        kit.attempts = attempts
        relay = asyncio.create_task(OutboxRelay(kit.outbox, kit.broker, poll_interval=0.1).run())

        async def dead_letters(match):
            """This group's DLQ entries (services running beside the test dead-letter garbage too)."""
            return [
                h
                for body, h in await read_all(infra.kafka_bootstrap, dlq(TASKS_EVENTS))
                if h.get("group") == kit.group and match(body)
            ]

        kit.dead_letters = dead_letters
        yield kit
        relay.cancel()


async def test_a_redelivered_event_changes_nothing(kit):
    # given an event delivered twice (at-least-once)
    event = task_created(kit.tenant)
    await publish(kit.bootstrap, TASKS_EVENTS, event, event)
    # then its effect exists exactly once, also after a later event of the same task (same partition,
    # so handled after both copies) was handled
    marker = task_created(kit.tenant, task_id=event.task_id)
    await publish(kit.bootstrap, TASKS_EVENTS, marker)
    await eventually(lambda: kit.db["effects"].find_one({"event_id": marker.event_id}), what="marker handled")
    assert await kit.db["effects"].count_documents({"event_id": event.event_id}) == 1


async def test_an_unreadable_message_goes_to_the_dead_letter_queue_with_the_reason(kit):
    garbage = f"not json {uuid.uuid4().hex}".encode()
    await publish(kit.bootstrap, TASKS_EVENTS, garbage)

    [headers] = await eventually(
        lambda: kit.dead_letters(lambda b: b.get("raw") == garbage.decode()), what="garbage in the DLQ"
    )
    assert "unreadable message" in headers["error"]


async def test_a_permanent_failure_is_dead_lettered_at_once_and_does_not_block_the_partition(kit):
    poison = task_created(kit.tenant, "poison")
    after = task_created(kit.tenant, task_id=poison.task_id)  # the same task: the same partition, after it
    await publish(kit.bootstrap, TASKS_EVENTS, poison, after)
    await eventually(lambda: kit.db["effects"].find_one({"event_id": after.event_id}), what="next event handled")

    [headers] = await eventually(
        lambda: kit.dead_letters(lambda b: b.get("event_id") == poison.event_id), what="poison in the DLQ"
    )
    assert "can never be handled" in headers["error"]


async def test_a_failing_handler_is_retried_a_bounded_number_of_times_then_dead_lettered(kit):
    flaky = task_created(kit.tenant, "flaky-forever")
    await publish(kit.bootstrap, TASKS_EVENTS, flaky)

    [headers] = await eventually(
        lambda: kit.dead_letters(lambda b: b.get("event_id") == flaky.event_id), what="flaky event in the DLQ"
    )
    assert kit.attempts.count(flaky.event_id) == 3
    assert "failed 3 times" in headers["error"]


async def test_state_and_its_event_commit_together_and_the_relay_publishes_it(kit):
    event = task_created(kit.tenant, "from the outbox")

    async def work(session):
        await kit.db["tasks"].insert_one({"_id": event.task_id}, session=session)
        await kit.outbox.add(session, TASKS_EVENTS, event)

    await kit.outbox.transaction(work)
    await eventually(lambda: kit.db["effects"].find_one({"event_id": event.event_id}), what="relayed and consumed")

    # The relay marks the message published once the broker acknowledged it, which the consumer need not wait for
    async def marked_published():
        return (await kit.db["outbox"].find_one({"event_id": event.event_id}))["published_at"]

    assert await eventually(marked_published, what="the outbox message marked published") is not None


async def test_a_failed_transaction_writes_neither_state_nor_event(kit):
    event = task_created(kit.tenant)

    async def work(session):
        await kit.db["tasks"].insert_one({"_id": event.task_id}, session=session)
        await kit.outbox.add(session, TASKS_EVENTS, event)
        raise ValueError("the use case fails after staging")

    with pytest.raises(ValueError):
        await kit.outbox.transaction(work)
    assert await kit.db["tasks"].find_one({"_id": event.task_id}) is None
    assert await kit.db["outbox"].find_one({"event_id": event.event_id}) is None


class Replicas:
    """Relays of one outbox, as in replicas of a service: each with a lease of its own on the shared database.
    They share the outbox object, so every commit wakes them all at once (the closest race there is)."""

    def __init__(self, infra, count: int, lease: timedelta):
        self.infra, self.count, self.lease = infra, count, lease
        self.client = connect(infra.mongodb_uri)
        self.db = self.client[f"runtime_{uuid.uuid4().hex[:8]}"]
        self.outbox = Outbox(self.client, self.db)
        self.topic = f"test-relay-{uuid.uuid4().hex}"
        self.tenant = uuid.uuid4().hex

    async def __aenter__(self) -> Replicas:
        admin = AIOKafkaAdminClient(bootstrap_servers=self.infra.kafka_bootstrap)
        await admin.start()
        try:
            await admin.create_topics([NewTopic(self.topic, 3, 1)])
        finally:
            await admin.close()
        await self.outbox.ensure_indexes()
        self.broker = make_broker(self.infra.kafka_bootstrap, "test", setup_tracing("test", None))
        await self.broker.start()
        self.relays = [
            OutboxRelay(self.outbox, self.broker, poll_interval=0.05, lease=RelayLease(self.db, self.lease))
            for _ in range(self.count)
        ]
        self.running = {id(r): asyncio.create_task(r.run()) for r in self.relays}
        return self

    async def __aexit__(self, *exc) -> None:
        for task in self.running.values():
            task.cancel()
        await asyncio.gather(*self.running.values(), return_exceptions=True)
        await self.broker.stop()
        await self.client.close()

    async def write(self, count: int) -> list[str]:
        events = [task_created(self.tenant) for _ in range(count)]
        for event in events:
            await self.outbox.transaction(lambda s, e=event: self.outbox.add(s, self.topic, e))
        return [e.event_id for e in events]

    async def all_published(self, timeout: float = 20) -> None:
        async def none_pending():
            return await self.db["outbox"].count_documents({"published_at": None}) == 0

        await eventually(none_pending, timeout=timeout, what="every message published")

    async def holder(self) -> OutboxRelay:
        lease = await self.db["outbox_lease"].find_one({"_id": "relay"})
        [holding] = [r for r in self.relays if r.lease.holder == lease["holder"]]
        return holding

    async def stop(self, relay: OutboxRelay, handing_back: bool) -> None:
        if not handing_back:  # as a replica that was killed: its lease stays until it runs out

            async def keep() -> None:
                pass

            relay.lease.release = keep  # type: ignore[method-assign]
        task = self.running.pop(id(relay))
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)

    async def on_the_bus(self) -> Counter[str]:
        return Counter(body["event_id"] for body, _ in await read_all(self.infra.kafka_bootstrap, self.topic))


async def test_replicas_sharing_an_outbox_put_each_message_on_the_bus_once_and_one_takes_over_from_a_dead_one(infra):
    async with Replicas(infra, 3, lease=timedelta(seconds=1)) as replicas:
        written = await replicas.write(40)
        await replicas.all_published()
        # the replica that publishes dies without handing the lease back: another takes over once it runs out
        await replicas.stop(await replicas.holder(), handing_back=False)
        written += await replicas.write(10)
        await replicas.all_published()
        copies = await replicas.on_the_bus()
        assert sorted(copies) == sorted(written)
        assert set(copies.values()) == {1}, {e: n for e, n in copies.items() if n > 1}


async def test_a_replica_that_stops_hands_its_lease_over_at_once(infra):
    # a lease far longer than the wait below: only its hand-back lets the other replica publish in time
    async with Replicas(infra, 2, lease=timedelta(minutes=5)) as replicas:
        await replicas.all_published()
        await replicas.write(1)
        await replicas.all_published()
        await replicas.stop(await replicas.holder(), handing_back=True)
        written = await replicas.write(5)
        await replicas.all_published(timeout=10)
        assert set(written) <= set(await replicas.on_the_bus())


async def test_a_relay_restarted_in_its_predecessors_place_takes_the_lease_at_once(infra):
    # services name their relay by host and port: a process restarted there need not wait out a long lease
    client = connect(infra.mongodb_uri)
    try:
        db, ttl = client[f"runtime_{uuid.uuid4().hex[:8]}"], timedelta(minutes=5)
        assert await RelayLease(db, ttl, holder="host-a:8001").hold()  # then killed, without handing back
        assert not await RelayLease(db, ttl, holder="host-b:8001").hold()
        assert await RelayLease(db, ttl, holder="host-a:8001").hold()
    finally:
        await client.close()


async def test_one_tasks_events_are_handled_in_order_while_other_tasks_go_on(kit):
    # given three events for each of ten tasks, published together (one fetch holds many tasks)
    tasks = [uuid.uuid4().hex for _ in range(10)]
    events = [task_created(kit.tenant, f"step {step}", task_id=t) for step in range(3) for t in tasks]
    await publish(kit.bootstrap, TASKS_EVENTS, *events)
    # then every event is handled once
    ids = [e.event_id for e in events]
    await eventually(lambda: _count(kit, ids, len(ids)), what="all thirty handled")
    # and each task's events took effect in the order they were published
    for t in tasks:
        mine = [e.event_id for e in events if e.task_id == t]
        effects = await kit.db["effects"].find({"event_id": {"$in": mine}}).sort("_id", 1).to_list(None)
        assert [d["event_id"] for d in effects] == mine


async def test_one_tasks_events_from_two_topics_are_handled_in_the_order_they_were_published(infra):
    # given, for each of six tasks, an event on each of two topics, published in turn (the first topic
    # first for half of the tasks, the second for the others), waiting for a group that starts afterwards
    first, second = f"test-order-a-{uuid.uuid4().hex}", f"test-order-b-{uuid.uuid4().hex}"
    admin = AIOKafkaAdminClient(bootstrap_servers=infra.kafka_bootstrap)
    await admin.start()
    try:
        await admin.create_topics([NewTopic(t, 3, 1) for t in (first, second)])
    finally:
        await admin.close()
    seen: dict[str, list[str]] = {}

    async def note(event, session):
        seen.setdefault(event.task_id, []).append(event.payload.task.title)

    group = Group(infra, note, topics=(first, second))
    expected = {}
    for n in range(6):
        a = task_created(group.tenant, "a")
        b = task_created(group.tenant, "b", task_id=a.task_id)
        topics = (first, second) if n % 2 else (second, first)
        await publish(infra.kafka_bootstrap, topics[0], a)
        await publish(infra.kafka_bootstrap, topics[1], b)
        expected[a.task_id] = ["a", "b"]

    # when the group takes them (one fetch holds them all)
    async def all_handled():
        return sum(map(len, seen.values())) == 12

    async with group:
        await eventually(all_handled, what="all twelve handled")
    # then each task's events were handled in the order they were published, whichever topic came first
    assert seen == expected


async def _count(kit, ids, wanted):
    return await kit.db["effects"].count_documents({"event_id": {"$in": ids}}) == wanted or None


async def test_a_message_the_group_does_not_want_is_passed_over_without_a_trace(infra):
    # given a group that wants only events of tasks titled "wanted"
    async def effect(event, session):
        await group.db["effects"].insert_one({"event_id": event.event_id}, session=session)

    async def wants(event):
        return event.payload.task.title == "wanted"

    async with Group(infra, effect, wants=wants) as group:
        db, name = group.db, group.group
        skipped = task_created(group.tenant, "not wanted")
        wanted = task_created(group.tenant, "wanted", task_id=skipped.task_id)
        await publish(infra.kafka_bootstrap, TASKS_EVENTS, skipped, wanted)
        # when the wanted event (published after the other, on its partition: the same task) has been handled
        await eventually(lambda: _processed(db, name, wanted.event_id), what="wanted handled and recorded")
        assert await db["effects"].find_one({"event_id": wanted.event_id})
        # then the other one left neither an effect nor a processed record (a redelivery asks again); the
        # counter alone says little, as the new group also passes over the topic's older events
        await eventually(lambda: _passed_over(name), what="passed-over counted")
        assert await db["effects"].find_one({"event_id": skipped.event_id}) is None
        assert await db["processed"].find_one({"_id": f"{name}:{skipped.event_id}"}) is None

        # and the group's lag is reported once its batch is done (after its last message was handled)
        async def lags():
            return [
                s.value
                for m in REGISTRY.collect()
                if m.name == "akkoord_consumer_lag"
                for s in m.samples
                if s.labels["group"] == name
            ]

        assert all(v >= 0 for v in await eventually(lags, what="the group's lag reported"))


async def _processed(db, group, event_id):
    return await db["processed"].find_one({"_id": f"{group}:{event_id}"})


async def _passed_over(group):
    return (
        REGISTRY.get_sample_value(
            "akkoord_events_total",
            {"group": group, "topic": TASKS_EVENTS, "type": "task.created", "outcome": "passed_over"},
        )
        or None
    )


class Hiccup(BaseException):
    """Fails past the handlers' own retries, as a DLQ that cannot be written would."""


async def test_a_batch_that_fails_outside_its_handlers_comes_again_and_loses_nothing(infra):
    # given a group whose first look at one event fails outside the handlers
    asked: list[str] = []

    async def effect(event, session):
        await group.db["effects"].insert_one({"event_id": event.event_id}, session=session)

    async def wants(event):
        asked.append(event.event_id)
        if event.payload.task.title == "hiccup" and asked.count(event.event_id) == 1:
            raise Hiccup()
        return True

    async with Group(infra, effect, wants=wants) as group:
        # when it and others arrive in one batch
        events = [task_created(group.tenant, "hiccup")] + [task_created(group.tenant) for _ in range(5)]
        await publish(infra.kafka_bootstrap, TASKS_EVENTS, *events)
        # then the batch comes again: every event takes effect exactly once, the failed one on its second look
        ids = [e.event_id for e in events]
        await eventually(lambda: _count(group, ids, len(ids)), what="all six handled")
        assert asked.count(events[0].event_id) >= 2
        for event_id in ids:
            assert await group.db["effects"].count_documents({"event_id": event_id}) == 1


async def test_a_dead_letter_is_replayed_once_for_the_group_that_failed_it_after_the_fix(infra):
    # given a group whose handler is broken for a while for one task, and another group on the same topic
    broken = {"yes": True}

    async def effect(event, session):
        if broken["yes"] and event.payload.task.title == "needs the template":
            raise PermanentFailure("the template is missing")
        await group.db["effects"].insert_one({"event_id": event.event_id}, session=session)

    async def record(event, session):
        await other.db["effects"].insert_one({"event_id": event.event_id}, session=session)

    async with Group(infra, effect) as group, Group(infra, record) as other:
        failed = task_created(group.tenant, "needs the template")
        garbage = f"not json {uuid.uuid4().hex}".encode()
        await publish(infra.kafka_bootstrap, TASKS_EVENTS, failed, garbage)

        async def both_dead_lettered():
            bodies = [
                b for b, h in await read_all(infra.kafka_bootstrap, dlq(TASKS_EVENTS)) if h.get("group") == group.group
            ]
            return any(b.get("event_id") == failed.event_id for b in bodies) and any(
                b.get("raw") == garbage.decode() for b in bodies
            )

        await eventually(both_dead_lettered, what="both dead-lettered")
        letters = [
            letter
            for letter in await list_dead_letters(infra.kafka_bootstrap, TASKS_EVENTS)
            if letter.group == group.group
        ]
        [listed] = [letter for letter in letters if letter.event_id == failed.event_id]
        assert not listed.unreadable and not listed.replayed and "the template is missing" in listed.error
        assert any(letter.unreadable for letter in letters)
        await eventually(lambda: other.db["effects"].find_one({"event_id": failed.event_id}), what="other handled it")

        # when the cause is fixed and the group's dead letters are replayed (a dry run first sends nothing)
        broken["yes"] = False
        dry = await replay(infra.kafka_bootstrap, TASKS_EVENTS, group.group, dry_run=True)
        assert dry["groups"][group.group]["event_ids"] == [failed.event_id]
        assert dry["groups"][group.group]["unreadable_left"] >= 1  # garbage is not sent again
        done = await replay(infra.kafka_bootstrap, TASKS_EVENTS, group.group)
        assert done["groups"][group.group]["replayed"] == 1

        # then the group applies it once; the other group, which had handled it, passes over the replay
        await eventually(lambda: group.db["effects"].find_one({"event_id": failed.event_id}), what="replay handled")
        await eventually(lambda: _passed_over(other.group), what="the other group passed over the replay")
        assert await other.db["effects"].count_documents({"event_id": failed.event_id}) == 1
        # and a second replay has nothing left to send; the list says what was replayed
        again = await replay(infra.kafka_bootstrap, TASKS_EVENTS, group.group)
        assert again["groups"][group.group] == {"replayed": 0, "unreadable_left": 0, "event_ids": []}
        listed = [
            letter
            for letter in await list_dead_letters(infra.kafka_bootstrap, TASKS_EVENTS)
            if letter.group == group.group
        ]
        assert all(letter.replayed for letter in listed) and len(listed) == len(letters)
        assert await group.db["effects"].count_documents({"event_id": failed.event_id}) == 1

        # and an operator sees the same from the command line
        cli = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "services.runtime.dlq",
            "list",
            TASKS_EVENTS,
            stdout=asyncio.subprocess.PIPE,
            env={**os.environ, "KAFKA_BOOTSTRAP_SERVERS": infra.kafka_bootstrap},
        )
        out, _ = await asyncio.wait_for(cli.communicate(), timeout=60)
        assert cli.returncode == 0
        lines = [json.loads(line) for line in out.decode().splitlines()]
        [shown] = [line for line in lines if line["event_id"] == failed.event_id and line["group"] == group.group]
        assert shown["replayed"] and "the template is missing" in shown["error"]
