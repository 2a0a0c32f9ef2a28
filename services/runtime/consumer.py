"""Idempotent consumption: tracking, bounded retries and the dead-letter queue.

Each handled message records `<group>:<event_id>` in the service's `processed` collection in the
same transaction as its effect, so a redelivered message is a no-op. Offsets are committed after
handling a fetched batch; a batch that fails outside its handlers is fetched again
(AckPolicy.NACK_ON_ERROR). A message that keeps failing, or can never be parsed, goes to
`<topic>.dlq` with the reason, so it never blocks its partition.

A failure to reach something (the database, another service being restarted, a 5xx) says nothing
about the message: it is retried for `outage_patience` seconds, not a handful of attempts, so that a
restart elsewhere delays the message instead of dead-lettering a good one.
"""

from __future__ import annotations

import asyncio
import heapq
import logging
import time
from collections import defaultdict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import httpx
from aiokafka import ConsumerRecord, TopicPartition
from faststream import AckPolicy
from faststream.kafka import KafkaBroker
from faststream.kafka.annotations import KafkaMessage
from opentelemetry import propagate, trace
from pydantic import ValidationError
from pymongo.errors import ConnectionFailure, DuplicateKeyError

from contracts import Envelope, parse_message, utcnow
from contracts.errors import PermanentFailure
from contracts.topics import dlq
from services.runtime.attempts import Attempts
from services.runtime.dlq import REPLAY_FOR, dead_letter_headers
from services.runtime.metrics import CONSUMER_LAG, EVENTS
from services.runtime.mongo import Session
from services.runtime.outbox import Outbox
from services.runtime.registry import Handlers

log = logging.getLogger(__name__)
Handler = Callable[[Envelope, Session], Awaitable[None]]  # a handler as the consumer holds it (see Handlers)


@dataclass
class Consumer:
    group: str
    topics: tuple[str, ...]
    handlers: Handlers[Session]  # routed by message class (contracts.messages.ROUTES)
    description: str
    # A cheap read before any transaction: False means the message has nothing to do in this group
    # (no effect, so nothing to record either), and it is passed over. A redelivery asks again.
    wants: Callable[[Envelope], Awaitable[bool]] | None = None


class Tracking:
    def __init__(self, outbox: Outbox):
        self.outbox = outbox
        self.processed = outbox.messages.database["processed"]
        self.attempts = Attempts(outbox.messages.database)

    async def handle_once(self, group: str, message: Envelope, handler: Handler) -> bool:
        """Apply `handler` unless this group already did; False means it was a duplicate."""

        async def work(session: Session) -> None:
            await self.processed.insert_one(
                {"_id": f"{group}:{message.event_id}", "type": message.type, "at": utcnow()}, session=session
            )
            await handler(message, session)

        try:
            await self.outbox.transaction(work)
        except DuplicateKeyError as exc:
            if "processed" not in str(exc):
                raise
            return False
        return True

    async def forget(self, group: str, event_id: str, session: Session) -> None:
        """Undo the record of a message handled without a lasting effect, so a later delivery is new."""
        await self.processed.delete_one({"_id": f"{group}:{event_id}"}, session=session)


def is_outage(exc: BaseException) -> bool:
    """Something the handler needs is away for now (not a fault of the message)."""
    if isinstance(exc, httpx.HTTPStatusError):
        return exc.response.status_code >= 500
    return isinstance(exc, (ConnectionFailure, httpx.TransportError, ConnectionError, asyncio.TimeoutError))


class BatchConsumer:
    """One consumer group on its topics: a fetched batch at a time, each message routed to its handler.

    Messages with the same key (a task's id) are handled one after another in offset order; different
    keys concurrently, at most `concurrency` at a time, so one group's throughput is not one database
    round trip after another. The batch's offsets are committed only when every message in it is handled
    or dead-lettered. A batch that comes again (services/runtime/attempts.py) is handled one message at
    a time, counting each attempt durably, so a message that ends the process is found and dead-lettered.
    """

    def __init__(
        self,
        broker: KafkaBroker,
        tracking: Tracking,
        consumer: Consumer,
        *,
        max_attempts: int = 5,
        backoff: float = 0.2,
        outage_patience: float = 120.0,
        max_backoff: float = 5.0,
        max_records: int = 200,
        concurrency: int = 8,
    ):
        self.broker, self.tracking, self.consumer = broker, tracking, consumer
        self.group = consumer.group
        self.max_attempts, self.backoff, self.max_backoff = max_attempts, backoff, max_backoff
        self.outage_patience, self.max_records = outage_patience, max_records
        self.slots = asyncio.Semaphore(concurrency)
        self.tracer = trace.get_tracer("akkoord.consumer")

    def subscribe(self) -> None:
        consumer = self.consumer
        subscriber = self.broker.subscriber(
            *consumer.topics,
            group_id=self.group,
            ack_policy=AckPolicy.NACK_ON_ERROR,
            auto_offset_reset="earliest",
            description=consumer.description,
            title=f"{self.group}:{','.join(consumer.topics)}",
            batch=True,
            max_records=self.max_records,
            batch_timeout_ms=50,
        )

        async def on_batch(msg: KafkaMessage) -> None:
            await self.on_batch(msg)

        subscriber(on_batch)

    async def on_batch(self, msg: KafkaMessage) -> None:
        records = msg.raw_message
        if await self.tracking.attempts.came_again(self.group, records):
            log.warning("%s: a batch of %d came again; handling it one message at a time", self.group, len(records))
            outcomes = [await self._run_alone(chain) for chain in self.chains(records)]
        else:
            outcomes = await asyncio.gather(
                *(self._run_chain(chain) for chain in self.chains(records)), return_exceptions=True
            )
        if failed := [o for o in outcomes if isinstance(o, BaseException)]:
            # Something around the handlers failed (the DLQ could not be written, say), after every other
            # message of the batch was done: nothing is committed, the batch comes again from its first
            # offsets, and what was handled is a duplicate then.
            # (the database away for a moment is an outage, not a fault: the batch simply comes again)
            level = logging.WARNING if isinstance(failed[0], ConnectionFailure) else logging.ERROR
            log.log(level, "%s: a batch of %d comes again: %r", self.group, len(records), failed[0])
            raise failed[0]
        self.report_lag(getattr(msg, "consumer", None), records)

    @staticmethod
    def chains(records: tuple[ConsumerRecord, ...]) -> list[list[ConsumerRecord]]:
        """The batch as one chain per task, each to be handled in order.

        One task's messages (its id is the key) come one after another: each partition's in offset order,
        and those from different topics merged by their timestamps, so an event comes after the one that
        caused it on another topic. A keyless record keeps the order of its partition."""
        by_key: dict[object, dict[tuple[str, int], list[ConsumerRecord]]] = defaultdict(lambda: defaultdict(list))
        for record in records:
            key = record.key if record.key is not None else (record.topic, record.partition)
            by_key[key][(record.topic, record.partition)].append(record)
        return [list(heapq.merge(*runs.values(), key=lambda r: r.timestamp)) for runs in by_key.values()]

    async def _run_chain(self, records: list[ConsumerRecord]) -> None:
        async with self.slots:
            for record in records:
                await self._traced(record)

    async def _run_alone(self, records: list[ConsumerRecord]) -> BaseException | None:
        try:
            for record in records:
                await self._traced(record, counted=True)
        except Exception as exc:
            return exc
        return None

    async def _traced(self, record: ConsumerRecord, counted: bool = False) -> None:
        # The batch's own span only links the messages; each message's work joins the trace of the
        # request that caused it, so one click stays one trace through every service.
        parent = propagate.extract({k: v.decode(errors="replace") for k, v in record.headers})
        with self.tracer.start_as_current_span(
            f"{record.topic} process",
            context=parent,
            kind=trace.SpanKind.CONSUMER,
            attributes={
                "messaging.system": "kafka",
                "messaging.destination.name": record.topic,
                "messaging.consumer.group.name": self.group,
                "messaging.kafka.offset": record.offset,
            },
        ):
            await self._handle(record, counted)

    async def _handle(self, record: ConsumerRecord, counted: bool) -> None:
        try:
            message = parse_message(record.value or b"")
        except (ValueError, ValidationError) as exc:
            await self._dead_letter(record, f"unreadable message: {exc}")
            return
        if message is None or (handler := self.consumer.handlers.get(type(message))) is None:
            return  # not for this group, or a newer type it does not know
        if (replay_for := dict(record.headers).get(REPLAY_FOR)) is not None and replay_for.decode() != self.group:
            EVENTS.labels(self.group, record.topic, message.type, "passed_over").inc()
            return  # a dead letter replayed for the group that failed it (services/runtime/dlq.py)
        if not counted:
            await self._attempt(record, message, handler)
            return
        attempts = self.tracking.attempts
        if (so_far := await attempts.begin(self.group, message.event_id)) > self.max_attempts:
            await self._dead_letter(
                record, f"{message.type} {message.event_id}: the process ended while handling it {so_far - 1} times"
            )
        else:
            await self._attempt(record, message, handler)
        await attempts.end(self.group, message.event_id)

    async def _attempt(self, record: ConsumerRecord, message: Envelope, handler: Handler) -> None:
        """Handle the message with bounded retries (longer while something it needs is away)."""
        group, consumer = self.group, self.consumer
        started, attempt = time.monotonic(), 0
        while True:
            attempt += 1
            try:
                if consumer.wants is not None and not await consumer.wants(message):
                    EVENTS.labels(group, record.topic, message.type, "passed_over").inc()
                    return
                fresh = await self.tracking.handle_once(group, message, handler)
                EVENTS.labels(group, record.topic, message.type, "handled" if fresh else "duplicate").inc()
                return
            except PermanentFailure as exc:
                await self._dead_letter(record, f"{message.type} {message.event_id}: {exc.detail}")
                return
            except Exception as exc:
                outage = is_outage(exc)
                if (attempt >= self.max_attempts and not outage) or time.monotonic() - started >= self.outage_patience:
                    await self._dead_letter(
                        record, f"{message.type} {message.event_id} failed {attempt} times: {exc!r}"
                    )
                    return
                log.warning(
                    "%s %s attempt %d failed%s: %r",
                    group,
                    message.type,
                    attempt,
                    " (outage, retrying)" if outage else "",
                    exc,
                )
                EVENTS.labels(group, record.topic, message.type, "retried").inc()
                await asyncio.sleep(min(self.backoff * 2 ** (attempt - 1), self.max_backoff))

    async def _dead_letter(self, record: ConsumerRecord, reason: str) -> None:
        log.error("dead-lettering %s@%s/%s: %s", record.topic, record.partition, record.offset, reason)
        EVENTS.labels(self.group, record.topic, "unknown", "dead_lettered").inc()
        await self.broker.publish(
            record.value or b"",
            dlq(record.topic),
            key=record.key,
            headers=dead_letter_headers(self.group, reason, record.topic, record.partition, record.offset),
        )

    def report_lag(self, kafka_consumer: Any, records: tuple[ConsumerRecord, ...]) -> None:
        last = {(r.topic, r.partition): r.offset for r in records}
        for (topic, partition), offset in last.items():
            end = (
                kafka_consumer.highwater(TopicPartition(topic, partition))
                if hasattr(kafka_consumer, "highwater")
                else None
            )
            if end is not None:
                CONSUMER_LAG.labels(self.group, topic, str(partition)).set(max(0, end - offset - 1))


def register(broker: KafkaBroker, tracking: Tracking, consumer: Consumer, **options: Any) -> BatchConsumer:
    """Subscribe one consumer group to its topics (see BatchConsumer for the options)."""
    batch_consumer = BatchConsumer(broker, tracking, consumer, **options)
    batch_consumer.subscribe()
    return batch_consumer
