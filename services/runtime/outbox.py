"""Transactional outbox: messages are written with the state that caused them and relayed to Kafka.

A broker that is down delays messages and loses none: the relay retries until publishing works,
and only then marks a message published. Consumers are idempotent, so a message published twice
(a crash between publish and mark) does no harm.

Replicas of a service share one outbox, and one relay publishes it at a time: the one holding the outbox's
lease (`RelayLease`). Without it every replica would read the same pending messages and put each on the bus
once per replica. The holder renews the lease as it goes; a replica that stops hands it back, and one that
dies loses it after the lease's time, when another replica takes over. Messages written through a replica
that does not hold the lease are published by the holder's next poll.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

from bson import ObjectId
from faststream.kafka import KafkaBroker
from opentelemetry import context, propagate
from pymongo import AsyncMongoClient
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

from contracts import Envelope, new_id, utcnow
from services.runtime.metrics import OUTBOX_PENDING, OUTBOX_RELAYING, PUBLISHED
from services.runtime.mongo import Session

log = logging.getLogger(__name__)
T = TypeVar("T")
KEEP_PUBLISHED = timedelta(days=7)
LEASE = timedelta(seconds=10)
RECHECK = timedelta(seconds=1)  # how often a replica without the lease asks whether it was handed back
NEVER = datetime(1970, 1, 1, tzinfo=UTC)


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


class RelayLease:
    """Which replica's relay publishes the outbox: one document, held until a time and renewed before it."""

    def __init__(
        self, db: AsyncDatabase[Any], ttl: timedelta = LEASE, recheck: timedelta = RECHECK, holder: str = ""
    ) -> None:
        """`holder` names this relay among the replicas. A service passes its host and port: only one live
        process can listen there, and one restarted in its place (a crashed container, a killed `make run`)
        takes its predecessor's lease at once instead of waiting for it to run out."""
        self.leases = db["outbox_lease"]
        self.ttl, self.recheck = ttl, min(recheck, ttl / 3)
        self.holder = holder or f"{socket.gethostname()}/{os.getpid()}/{new_id()[:8]}"
        self.renewed_at: datetime | None = None
        self.held_elsewhere_until = NEVER

    async def hold(self) -> bool:
        """Whether this relay may publish now: renews its lease once a third of it has passed, or takes
        the lease when nobody holds it, the holder handed it back or let it run out. A replica that found
        the lease held asks again after `recheck`."""
        now = utcnow()
        if self.renewed_at is not None and now < self.renewed_at + self.ttl / 3:
            return True
        if now < self.held_elsewhere_until:
            return False
        try:
            await self.leases.update_one(
                {"_id": "relay", "$or": [{"holder": self.holder}, {"until": {"$lte": now}}]},
                {"$set": {"holder": self.holder, "until": now + self.ttl}},
                upsert=True,
            )
        except DuplicateKeyError:  # another replica holds it: the filter missed, and the upsert found its _id
            self.renewed_at = None
            held = await self.leases.find_one({"_id": "relay"})
            self.held_elsewhere_until = min(held["until"], now + self.recheck) if held else NEVER
            return False
        self.renewed_at = now
        return True

    async def release(self) -> None:
        """Hand the lease back (a replica that stops), so another replica need not wait for it to run out."""
        if self.renewed_at is not None:
            self.renewed_at = None
            await self.leases.update_one({"_id": "relay", "holder": self.holder}, {"$set": {"until": NEVER}})


class OutboxRelay:
    def __init__(
        self, outbox: Outbox, broker: KafkaBroker, poll_interval: float = 0.5, lease: RelayLease | None = None
    ):
        self.outbox = outbox
        self.broker = broker
        self.poll_interval = poll_interval
        self.lease = lease or RelayLease(outbox.messages.database)

    async def run(self) -> None:
        try:
            while True:
                try:
                    relaying = await self.lease.hold()
                    OUTBOX_RELAYING.set(relaying)
                    published = await self.relay_once() if relaying else 0
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
        finally:
            OUTBOX_RELAYING.set(0)
            await self._release()

    async def _release(self) -> None:
        try:
            await asyncio.wait_for(self.lease.release(), 2)
        except Exception as exc:  # database already gone: the lease runs out instead
            log.info("outbox lease not handed back: %s", exc)

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
