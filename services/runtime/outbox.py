"""Transactional outbox: messages are written with the state that caused them and relayed to Kafka.

A broker that is down delays messages and loses none: the relay retries until publishing works,
and only then marks a message published. Consumers are idempotent, so a message published twice
(a crash between publish and mark) does no harm.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any, TypeVar

from bson import ObjectId
from faststream.kafka import KafkaBroker
from opentelemetry import context, propagate
from pymongo import AsyncMongoClient
from pymongo.asynchronous.database import AsyncDatabase

from contracts import Envelope, utcnow
from services.runtime.metrics import OUTBOX_PENDING, PUBLISHED
from services.runtime.mongo import Session

log = logging.getLogger(__name__)
T = TypeVar("T")
KEEP_PUBLISHED = timedelta(days=7)


class Outbox:
    def __init__(self, client: AsyncMongoClient[Any], db: AsyncDatabase[Any]) -> None:
        self.client = client
        self.messages = db["outbox"]
        self.wakeup = asyncio.Event()
        self._adding: set[int] = set()  # sessions whose transaction wrote messages

    async def ensure_indexes(self) -> None:
        await self.messages.create_index("event_id", unique=True)
        await self.messages.create_index([("published_at", 1), ("_id", 1)])
        await self.messages.create_index(
            "published_at", expireAfterSeconds=int(KEEP_PUBLISHED.total_seconds()), name="published_ttl"
        )

    async def add(
        self, session: Session, topic: str, *messages: Envelope, headers: dict[str, str] | None = None
    ) -> None:
        headers = dict(headers or {})
        propagate.inject(headers)  # the W3C trace context of the request that caused the message
        self._adding.add(id(session))
        await self.messages.insert_many(
            [
                {
                    "_id": ObjectId(),
                    "event_id": m.event_id,
                    "topic": topic,
                    "key": m.key,
                    "type": m.type,
                    "value": m.model_dump_json(),
                    "headers": headers,
                    "published_at": None,
                }
                for m in messages
            ],
            session=session,
        )

    async def transaction(self, work: Callable[[Session], Awaitable[T]]) -> T:
        """Run `work` atomically; messages it adds are relayed once the transaction commits."""
        async with self.client.start_session() as session:
            try:
                result = await session.with_transaction(work)
            finally:
                wrote = id(session) in self._adding
                self._adding.discard(id(session))
        # Most transactions (a projection, a duplicate) write no message: waking the relay for them
        # would cost the database a query each.
        if wrote:
            self.wakeup.set()
        return result

    async def pending(self, limit: int = 500) -> list[dict[str, Any]]:
        return await self.messages.find({"published_at": None}).sort("_id", 1).to_list(limit)


class OutboxRelay:
    def __init__(self, outbox: Outbox, broker: KafkaBroker, poll_interval: float = 0.5):
        self.outbox = outbox
        self.broker = broker
        self.poll_interval = poll_interval

    async def run(self) -> None:
        while True:
            try:
                published = await self.relay_once()
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # broker or database away: keep the messages, try again
                log.warning("outbox relay paused: %s", exc)
                published = 0
                await asyncio.sleep(1)
            if not published:
                try:
                    await asyncio.wait_for(self.outbox.wakeup.wait(), self.poll_interval)
                except TimeoutError:
                    pass
                self.outbox.wakeup.clear()

    async def relay_once(self) -> int:
        batch = await self.outbox.pending()
        OUTBOX_PENDING.set(len(batch))
        if not batch:
            return 0
        # Hand the whole batch to the producer in order (one partition keeps its order), then wait
        # for every acknowledgement before marking any of it published.
        confirmations = []
        for doc in batch:
            token = context.attach(propagate.extract(doc["headers"]))
            try:
                confirmations.append(
                    await self.broker.publish(
                        doc["value"].encode(),
                        doc["topic"],
                        key=doc["key"].encode(),
                        headers={**doc["headers"], "type": doc["type"], "content-type": "application/json"},
                        no_confirm=True,
                    )
                )
            finally:
                context.detach(token)
        await asyncio.gather(*confirmations)
        await self.outbox.messages.update_many(
            {"_id": {"$in": [d["_id"] for d in batch]}}, {"$set": {"published_at": utcnow()}}
        )
        for doc in batch:
            PUBLISHED.labels(doc["topic"]).inc()
        return len(batch)
