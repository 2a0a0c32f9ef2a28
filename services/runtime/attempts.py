"""Durable attempt counts, so that a message whose handling ends the process is dead-lettered too.

Counting attempts in memory misses the worst poison: one that kills the process (a crash in native code,
memory exhausted, os._exit). Its batch is never committed, so it comes again after every restart, and the
count starts from zero each time. Here the database remembers, at one write per partition per batch:

- each batch's start is recorded (`<group>:<topic>:<partition>:<first offset>`, counted) before it is
  handled; a batch that starts where a recorded one started *came again*: the process ended, a handler
  outside the retries failed, or the partition moved to another replica mid-batch;
- a batch that came again is handled one message at a time, and each message's attempt is counted before
  it starts and forgotten once it ends, so a count that survives belongs to the message that was being
  handled when the process died — the only one in flight. Past the group's bounded attempts, that
  message is dead-lettered like any other that keeps failing.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from aiokafka import ConsumerRecord
from pymongo import ReturnDocument
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.asynchronous.database import AsyncDatabase

from contracts import utcnow

KEEP = timedelta(days=7)  # long past any batch's retries; then the records expire


class Attempts:
    def __init__(self, db: AsyncDatabase[Any]) -> None:
        self.batches = db["consumer_batches"]
        self.messages = db["consumer_attempts"]

    async def ensure_indexes(self) -> None:
        for collection in (self.batches, self.messages):
            await collection.create_index("at", expireAfterSeconds=int(KEEP.total_seconds()), name="at_ttl")

    async def came_again(self, group: str, records: tuple[ConsumerRecord, ...] | list[ConsumerRecord]) -> bool:
        """Record this batch's start on each partition; True when one of them was recorded before."""
        starts: dict[tuple[str, int], int] = {}
        for record in records:
            starts.setdefault((record.topic, record.partition), record.offset)
        # One after another: a batch spans few partitions, and concurrent upserts that create the
        # collection can wait on each other in the database.
        again = False
        for (topic, partition), offset in starts.items():
            again |= await self._count(self.batches, f"{group}:{topic}:{partition}:{offset}") > 1
        return again

    async def begin(self, group: str, event_id: str) -> int:
        """Count an attempt at handling one message, before it starts; the attempts so far, this one included."""
        return await self._count(self.messages, f"{group}:{event_id}")

    async def end(self, group: str, event_id: str) -> None:
        """The attempt ended without taking the process with it."""
        await self.messages.delete_one({"_id": f"{group}:{event_id}"})

    async def _count(self, collection: AsyncCollection[Any], key: str) -> int:
        doc = await collection.find_one_and_update(
            {"_id": key},
            {"$inc": {"n": 1}, "$setOnInsert": {"at": utcnow()}},
            upsert=True,
            return_document=ReturnDocument.AFTER,
        )
        if doc is None:  # an upsert returning the document after it always has one
            raise RuntimeError(f"no attempt count for {key}")
        return int(doc["n"])
