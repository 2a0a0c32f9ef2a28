"""Idempotent consumption: tracking, bounded retries and the dead-letter queue.

Each handled message records `<group>:<event_id>` in the service's `processed` collection in the
same transaction as its effect, so a redelivered message is a no-op. Offsets are committed after
handling (faststream's AckPolicy.ACK). A message that keeps failing, or can never be parsed, goes
to `<topic>.dlq` with the reason, so it never blocks its partition.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from typing import Awaitable, Callable, Mapping

from faststream import AckPolicy
from faststream.kafka import KafkaBroker
from faststream.kafka.annotations import KafkaMessage
from pydantic import ValidationError
from pymongo.errors import DuplicateKeyError

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


def register(broker: KafkaBroker, tracking: Tracking, consumer: Consumer, *, max_attempts: int = 5,
             backoff: float = 0.2) -> None:
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
        for attempt in range(1, max_attempts + 1):
            try:
                fresh = await tracking.handle_once(consumer.group, message, handler)
                EVENTS.labels(consumer.group, msg.raw_message.topic, message.type,
                              "handled" if fresh else "duplicate").inc()
                return
            except PermanentFailure as exc:
                await dead_letter(msg, f"{message.type} {message.event_id}: {exc.detail}")
                return
            except Exception as exc:
                if attempt == max_attempts:
                    await dead_letter(msg, f"{message.type} {message.event_id} failed {attempt} times: {exc!r}")
                    return
                log.warning("%s %s attempt %d failed: %r", consumer.group, message.type, attempt, exc)
                EVENTS.labels(consumer.group, msg.raw_message.topic, message.type, "retried").inc()
                await asyncio.sleep(backoff * 2 ** (attempt - 1))

