"""Idempotent consumption: tracking, bounded retries and the dead-letter queue.

Each handled message records `<group>:<event_id>` in the service's `processed` collection in the
same transaction as its effect, so a redelivered message is a no-op. Offsets are committed after
handling (faststream's AckPolicy.ACK). A message that keeps failing, or can never be parsed, goes
to `<topic>.dlq` with the reason, so it never blocks its partition.

A failure to reach something (the database, another service being restarted, a 5xx) says nothing
about the message: it is retried for `outage_patience` seconds, not a handful of attempts, so that a
restart elsewhere delays the message instead of dead-lettering a good one.
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass
from typing import Awaitable, Callable, Mapping

import httpx
from faststream import AckPolicy
from faststream.kafka import KafkaBroker
from faststream.kafka.annotations import KafkaMessage
from pydantic import ValidationError
from pymongo.errors import ConnectionFailure, DuplicateKeyError

from contracts import Envelope, parse_message, utcnow
from contracts.errors import PermanentFailure
from contracts.topics import dlq
from services.runtime.metrics import EVENTS
from services.runtime.mongo import Session
from services.runtime.outbox import Outbox

log = logging.getLogger(__name__)
Handler = Callable[[Envelope, Session], Awaitable[None]]


@dataclass
class Consumer:
    group: str
    topics: tuple[str, ...]
    handlers: Mapping[str, Handler]
    description: str


class Tracking:
    def __init__(self, outbox: Outbox):
        self.outbox = outbox
        self.processed = outbox.messages.database["processed"]

    async def handle_once(self, group: str, message: Envelope, handler: Handler) -> bool:
        """Apply `handler` unless this group already did; False means it was a duplicate."""

        async def work(session: Session) -> None:
            await self.processed.insert_one(
                {"_id": f"{group}:{message.event_id}", "type": message.type, "at": utcnow()}, session=session)
            await handler(message, session)

        try:
            await self.outbox.transaction(work)
        except DuplicateKeyError as exc:
            if "processed" not in str(exc):
                raise
            return False
        return True


def is_outage(exc: BaseException) -> bool:
    """Something the handler needs is away for now (not a fault of the message)."""
    if isinstance(exc, httpx.HTTPStatusError):
        return exc.response.status_code >= 500
    return isinstance(exc, (ConnectionFailure, httpx.TransportError, ConnectionError, asyncio.TimeoutError))


def register(broker: KafkaBroker, tracking: Tracking, consumer: Consumer, *, max_attempts: int = 5,
             backoff: float = 0.2, outage_patience: float = 120.0, max_backoff: float = 5.0) -> None:
    """Subscribe one consumer group to its topics and route each message type to its handler."""

    async def dead_letter(msg, reason: str) -> None:
        raw = msg.raw_message
        log.error("dead-lettering %s@%s/%s: %s", raw.topic, raw.partition, raw.offset, reason)
        EVENTS.labels(consumer.group, raw.topic, "unknown", "dead_lettered").inc()
        await broker.publish(
            msg.body, dlq(raw.topic), key=raw.key,
            headers={"error": reason[:2000], "group": consumer.group, "source_topic": raw.topic,
                     "source_partition": str(raw.partition), "source_offset": str(raw.offset)},
        )

    @broker.subscriber(*consumer.topics, group_id=consumer.group, ack_policy=AckPolicy.ACK,
                       auto_offset_reset="earliest", description=consumer.description,
                       title=f"{consumer.group}:{','.join(consumer.topics)}")
    async def on_message(msg: KafkaMessage) -> None:
        try:
            message = parse_message(msg.body)
        except (ValueError, ValidationError) as exc:
            await dead_letter(msg, f"unreadable message: {exc}")
            return
        if message is None or (handler := consumer.handlers.get(message.type)) is None:
            return  # not for this group, or a newer type it does not know
        started, attempt = time.monotonic(), 0
        while True:
            attempt += 1
            try:
                fresh = await tracking.handle_once(consumer.group, message, handler)
                EVENTS.labels(consumer.group, msg.raw_message.topic, message.type,
                              "handled" if fresh else "duplicate").inc()
                return
            except PermanentFailure as exc:
                await dead_letter(msg, f"{message.type} {message.event_id}: {exc.detail}")
                return
            except Exception as exc:
                outage = is_outage(exc)
                if (attempt >= max_attempts and not outage) or time.monotonic() - started >= outage_patience:
                    await dead_letter(msg, f"{message.type} {message.event_id} failed {attempt} times: {exc!r}")
                    return
                log.warning("%s %s attempt %d failed%s: %r", consumer.group, message.type, attempt,
                            " (outage, retrying)" if outage else "", exc)
                EVENTS.labels(consumer.group, msg.raw_message.topic, message.type, "retried").inc()
                await asyncio.sleep(min(backoff * 2 ** (attempt - 1), max_backoff))
