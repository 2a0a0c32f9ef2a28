"""The run kit's delivery guarantees, against the real broker and database."""

from __future__ import annotations

import asyncio
import uuid

import pytest
from prometheus_client import REGISTRY

from contracts import Actor
from contracts.errors import PermanentFailure
from contracts.messages import TaskCreated, TaskPayload
from contracts.models import TaskSnapshot
from contracts.topics import TASKS_EVENTS, dlq
from services.runtime.bus import ensure_topics, make_broker
from services.runtime.consumer import Consumer, Tracking, register
from services.runtime.mongo import connect
from services.runtime.outbox import Outbox, OutboxRelay
from services.runtime.telemetry import setup_tracing
from tests.support.bus import publish, read_all
from tests.support.waiting import eventually


def task_created(tenant: str, title: str = "Repair", task_id: str | None = None) -> TaskCreated:
    task_id = task_id or uuid.uuid4().hex
    return TaskCreated(tenant_id=tenant, task_id=task_id, actor=Actor(kind="staff", id="k1"),
                       payload=TaskPayload(task=TaskSnapshot(task_id=task_id, title=title, phase="New")))


class Group:
    """A consumer group of the run kit on its own database, wired like a service."""

    def __init__(self, infra, handlers, **options):
        self.client = connect(infra.mongodb_uri)
        self.db = self.client[f"runtime_{uuid.uuid4().hex[:8]}"]
        self.outbox = Outbox(self.client, self.db)
        self.broker = make_broker(infra.kafka_bootstrap, "test", setup_tracing("test", None))
        self.tenant, self.group = uuid.uuid4().hex, f"test-{uuid.uuid4().hex}"
        self.bootstrap = infra.kafka_bootstrap
        wants = options.pop("wants", None)
        register(self.broker, Tracking(self.outbox), Consumer(group=self.group, topics=(TASKS_EVENTS,), handlers=handlers,
                                                               description="test", wants=wants), **options)

    async def __aenter__(self) -> "Group":
        await ensure_topics(self.bootstrap)
        await self.outbox.ensure_indexes()
        await self.broker.start()
        return self

    async def __aexit__(self, *exc) -> None:
        await self.broker.stop()
        self.client.close()


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

    async with Group(infra, {"task.created": count}, max_attempts=3, backoff=0.01) as kit:
        kit.attempts = attempts
        relay = asyncio.create_task(OutboxRelay(kit.outbox, kit.broker, poll_interval=0.1).run())

        async def dead_letters(match):
            """This group's DLQ entries (services running beside the test dead-letter garbage too)."""
            return [h for body, h in await read_all(infra.kafka_bootstrap, dlq(TASKS_EVENTS))
                    if h.get("group") == kit.group and match(body)]

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

    [headers] = await eventually(lambda: kit.dead_letters(lambda b: b.get("raw") == garbage.decode()),
                                 what="garbage in the DLQ")
    assert "unreadable message" in headers["error"]


async def test_a_permanent_failure_is_dead_lettered_at_once_and_does_not_block_the_partition(kit):
    poison, after = task_created(kit.tenant, "poison"), task_created(kit.tenant)
    await publish(kit.bootstrap, TASKS_EVENTS, poison, after)
    await eventually(lambda: kit.db["effects"].find_one({"event_id": after.event_id}), what="next event handled")

    [headers] = await eventually(lambda: kit.dead_letters(lambda b: b.get("event_id") == poison.event_id),
                                 what="poison in the DLQ")
    assert "can never be handled" in headers["error"]


async def test_a_failing_handler_is_retried_a_bounded_number_of_times_then_dead_lettered(kit):
    flaky = task_created(kit.tenant, "flaky-forever")
    await publish(kit.bootstrap, TASKS_EVENTS, flaky)

    [headers] = await eventually(lambda: kit.dead_letters(lambda b: b.get("event_id") == flaky.event_id),
                                 what="flaky event in the DLQ")
    assert kit.attempts.count(flaky.event_id) == 3
    assert "failed 3 times" in headers["error"]


async def test_state_and_its_event_commit_together_and_the_relay_publishes_it(kit):
    event = task_created(kit.tenant, "from the outbox")

    async def work(session):
        await kit.db["tasks"].insert_one({"_id": event.task_id}, session=session)
        await kit.outbox.add(session, TASKS_EVENTS, event)

    await kit.outbox.transaction(work)
    await eventually(lambda: kit.db["effects"].find_one({"event_id": event.event_id}), what="relayed and consumed")
    assert (await kit.db["outbox"].find_one({"event_id": event.event_id}))["published_at"] is not None


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


async def _count(kit, ids, wanted):
    return await kit.db["effects"].count_documents({"event_id": {"$in": ids}}) == wanted or None


async def test_a_message_the_group_does_not_want_is_passed_over_without_a_trace(infra):
    # given a group that wants only events of tasks titled "wanted"
    async def effect(event, session):
        await group.db["effects"].insert_one({"event_id": event.event_id}, session=session)

    async def wants(event):
        return event.payload.task.title == "wanted"

    async with Group(infra, {"task.created": effect}, wants=wants) as group:
        db, name = group.db, group.group
        skipped, wanted = task_created(group.tenant, "not wanted"), task_created(group.tenant, "wanted")
        await publish(infra.kafka_bootstrap, TASKS_EVENTS, skipped, wanted)
        # when the wanted event (published after the other, on any partition) has been handled
        await eventually(lambda: _processed(db, name, wanted.event_id), what="wanted handled and recorded")
        assert await db["effects"].find_one({"event_id": wanted.event_id})
        # then the other one left neither an effect nor a processed record (a redelivery asks again)
        await eventually(lambda: _passed_over(name), what="passed-over counted")
        assert await db["effects"].find_one({"event_id": skipped.event_id}) is None
        assert await db["processed"].find_one({"_id": f"{name}:{skipped.event_id}"}) is None
        # and the group's lag is reported once its batch is done
        lags = [s.value for m in REGISTRY.collect() if m.name == "akkoord_consumer_lag"
                for s in m.samples if s.labels["group"] == name]
        assert lags and all(v >= 0 for v in lags)


async def _processed(db, group, event_id):
    return await db["processed"].find_one({"_id": f"{group}:{event_id}"})


async def _passed_over(group):
    return REGISTRY.get_sample_value("akkoord_events_total", {"group": group, "topic": TASKS_EVENTS,
                                                              "type": "task.created", "outcome": "passed_over"}) or None


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

    async with Group(infra, {"task.created": effect}, wants=wants) as group:
        # when it and others arrive in one batch
        events = [task_created(group.tenant, "hiccup")] + [task_created(group.tenant) for _ in range(5)]
        await publish(infra.kafka_bootstrap, TASKS_EVENTS, *events)
        # then the batch comes again: every event takes effect exactly once, the failed one on its second look
        ids = [e.event_id for e in events]
        await eventually(lambda: _count(group, ids, len(ids)), what="all six handled")
        assert asked.count(events[0].event_id) >= 2
        for event_id in ids:
            assert await group.db["effects"].count_documents({"event_id": event_id}) == 1
