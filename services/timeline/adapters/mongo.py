"""The timeline's own database: entries (hash-chained per task and audience), and what it learned
about tasks, actions and contacts from events so that entries can name people."""

from __future__ import annotations

import base64
from datetime import UTC, datetime
from typing import Any

from pymongo import UpdateOne
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.asynchronous.database import AsyncDatabase

from contracts.errors import Invalid
from services.runtime.mongo import Session
from services.timeline import chain
from services.timeline.domain import Audience, Entry, KnownAction

PAGE_MAX = 200


def encode_cursor(entry: dict) -> str:
    return base64.urlsafe_b64encode(f"{int(entry['at'].timestamp() * 1000)}:{entry['seq']}".encode()).decode()


def after_cursor(cursor: str) -> dict[str, Any]:
    """The query part for entries older than the cursor's (time, then place in the chain)."""
    try:
        millis, seq = (int(part) for part in base64.urlsafe_b64decode(cursor.encode()).decode().split(":"))
    except ValueError as exc:
        raise Invalid("cursor is not one this service gave out") from exc
    at = datetime.fromtimestamp(millis / 1000, tz=UTC)
    return {"$or": [{"at": {"$lt": at}}, {"at": at, "seq": {"$lt": seq}}]}


PROJECTION = ("timeline_entries", "timeline_heads", "timeline_tasks", "timeline_actions", "timeline_contacts")
COMPARE_BATCH = 1000


class TimelineStore:
    def __init__(self, db: AsyncDatabase, staff_keys: AsyncCollection | None = None):
        self.db = db
        self.entries = db["timeline_entries"]
        self.heads = db["timeline_heads"]
        self.tasks = db["timeline_tasks"]
        self.actions = db["timeline_actions"]
        self.contacts = db["timeline_contacts"]
        # the runtime's projection of tasks' staff keys (a rebuild's staging store reads the live one)
        self.staff_keys = staff_keys if staff_keys is not None else db["staff_keys"]

    async def ensure_indexes(self) -> None:
        await self.entries.create_index(
            [("tenant_id", 1), ("task_id", 1), ("audience", 1), ("seq", 1)], unique=True, name="chain_position"
        )
        await self.entries.create_index(
            [("tenant_id", 1), ("task_id", 1), ("audience", 1), ("at", -1), ("seq", -1)], name="newest_first"
        )
        await self.actions.create_index([("tenant_id", 1), ("task_id", 1), ("contact_id", 1)])

    async def drop_all(self) -> None:
        for collection in (self.entries, self.heads, self.tasks, self.actions, self.contacts):
            await collection.drop()

    # -- a rebuild's staging store, and the switch to it --

    async def entry_count(self) -> int:
        return await self.entries.count_documents({})

    async def discard(self) -> None:
        """Drop this store's whole database: a rebuild's staging area (projection, outbox, marks)."""
        await self.db.client.drop_database(self.db.name)

    async def entries_missing_from(self, other: TimelineStore, limit: int = 20) -> tuple[int, list[dict]]:
        """Entries of this store that `other` lacks or holds with another hash: their count and the first few."""
        count = 0
        examples: list[dict] = []
        cursor = self.entries.find({}, {"hash": 1, "tenant_id": 1, "task_id": 1, "audience": 1, "seq": 1})
        batch: list[dict] = []

        async def compare(docs: list[dict]) -> None:
            nonlocal count
            theirs = {
                d["_id"]: d["hash"]
                async for d in other.entries.find({"_id": {"$in": [d["_id"] for d in docs]}}, {"hash": 1})
            }
            for doc in docs:
                if theirs.get(doc["_id"]) != doc["hash"]:
                    count += 1
                    if len(examples) < limit:
                        examples.append(
                            {
                                "id": doc["_id"],
                                "tenant_id": doc["tenant_id"],
                                "task_id": doc["task_id"],
                                "audience": doc["audience"],
                                "seq": doc["seq"],
                                "found": "another hash" if doc["_id"] in theirs else "missing",
                            }
                        )

        async for doc in cursor:
            batch.append(doc)
            if len(batch) >= COMPARE_BATCH:
                await compare(batch)
                batch = []
        if batch:
            await compare(batch)
        return count, examples

    async def take_over(self, staging: TimelineStore) -> None:
        """Replace this store's projection by `staging`'s: each collection renamed over its live one (each
        rename is atomic; the service is stopped while this runs)."""
        present = set(await staging.db.list_collection_names())
        for name in PROJECTION:
            if name in present:
                await self.db.client.admin.command(
                    "renameCollection", f"{staging.db.name}.{name}", to=f"{self.db.name}.{name}", dropTarget=True
                )
            else:
                await self.db[name].drop()

    async def adopt_outbox(self, staging: TimelineStore) -> None:
        """Move the staging outbox's unpublished messages into this database's outbox, for its relay."""
        batch = [doc async for doc in staging.db["outbox"].find({"published_at": None})]
        for start in range(0, len(batch), COMPARE_BATCH):
            await self.db["outbox"].bulk_write(
                [
                    UpdateOne(
                        {"event_id": doc["event_id"]},
                        {"$setOnInsert": {k: v for k, v in doc.items() if k != "event_id"}},
                        upsert=True,
                    )
                    for doc in batch[start : start + COMPARE_BATCH]
                ],
                ordered=False,
            )

    async def adopt_marks(self, staging: TimelineStore, group: str) -> None:
        """Mark as handled what the staging rebuild handled, so the restarted consumer does not apply it again
        (events that came while the service was stopped were applied by the rebuild)."""
        prefix = {"_id": {"$regex": f"^{group}:"}}
        batch: list[UpdateOne] = []
        async for mark in staging.db["processed"].find(prefix):
            batch.append(
                UpdateOne(
                    {"_id": mark["_id"]}, {"$setOnInsert": {k: v for k, v in mark.items() if k != "_id"}}, upsert=True
                )
            )
            if len(batch) >= COMPARE_BATCH:
                await self.db["processed"].bulk_write(batch, ordered=False)
                batch = []
        if batch:
            await self.db["processed"].bulk_write(batch, ordered=False)

    # -- what the projection learns --

    async def note_task(self, tenant_id: str, task_id: str, contact_id: str | None, session: Session) -> None:
        update: dict[str, Any] = {"$setOnInsert": {"tenant_id": tenant_id, "task_id": task_id}}
        if contact_id:
            update["$addToSet"] = {"contact_ids": contact_id}
        await self.tasks.update_one({"_id": f"{tenant_id}:{task_id}"}, update, upsert=True, session=session)

    async def note_action(self, tenant_id: str, task_id: str, action: KnownAction, session: Session) -> None:
        await self.actions.update_one(
            {"_id": f"{tenant_id}:{action.action_id}"},
            {
                "$set": {
                    "tenant_id": tenant_id,
                    "task_id": task_id,
                    "action_id": action.action_id,
                    "contact_id": action.contact_id,
                    "contact_name": action.contact_name,
                    "kind": action.kind,
                    "document_id": action.document_id,
                }
            },
            upsert=True,
            session=session,
        )

    async def note_contact(self, tenant_id: str, contact_id: str, name: str, session: Session) -> None:
        await self.contacts.update_one(
            {"_id": f"{tenant_id}:{contact_id}"}, {"$set": {"name": name}}, upsert=True, session=session
        )

    async def known_action(self, tenant_id: str, action_id: str, session: Session) -> KnownAction | None:
        doc = await self.actions.find_one({"_id": f"{tenant_id}:{action_id}"}, session=session)
        if doc is None:
            return None
        return KnownAction(
            action_id=action_id,
            contact_id=doc["contact_id"],
            contact_name=doc.get("contact_name"),
            kind=doc["kind"],
            document_id=doc.get("document_id"),
        )

    async def contact_name(self, tenant_id: str, contact_id: str, session: Session) -> str | None:
        doc = await self.contacts.find_one({"_id": f"{tenant_id}:{contact_id}"}, session=session)
        return doc["name"] if doc else None

    async def staff_key_name(self, tenant_id: str, key_id: str, session: Session) -> str | None:
        doc = await self.staff_keys.find_one({"tenant_id": tenant_id, "key_id": key_id}, {"name": 1}, session=session)
        return doc.get("name") if doc else None

    # -- entries --

    async def append_all(self, entries: list[Entry], session: Session, *, fresh: bool = False) -> list[dict | None]:
        """Add each entry at the end of its chain and return it sealed, or None where it is already there.

        A few round trips whatever the number of entries (heads read together, entries and heads written
        together): this runs once per event, and the database's cost is per command. `fresh` says the
        event's entries cannot exist yet (the consumer records each event it handled with its effect),
        so the look for them is skipped."""
        if not entries:
            return []
        present = (
            set()
            if fresh
            else {
                d["_id"]
                async for d in self.entries.find({"_id": {"$in": [e.id for e in entries]}}, {"_id": 1}, session=session)
            }
        )
        head_ids = [f"{e.tenant_id}:{e.task_id}:{e.audience}" for e in entries]
        heads = {d["_id"]: d async for d in self.heads.find({"_id": {"$in": sorted(set(head_ids))}}, session=session)}
        placed: list[dict | None] = []
        for entry, head_id in zip(entries, head_ids, strict=False):
            if entry.id in present:
                placed.append(None)
                continue
            head = heads.get(head_id) or {"seq": 0, "hash": chain.GENESIS}
            doc = chain.seal(entry.model_dump(), head["seq"] + 1, head["hash"])
            heads[head_id] = {"_id": head_id, "seq": doc["seq"], "hash": doc["hash"]}
            present.add(entry.id)
            placed.append(doc)
        new = [{"_id": e.id, **doc} for e, doc in zip(entries, placed, strict=False) if doc is not None]
        if new:
            await self.entries.insert_many(new, ordered=True, session=session)
            moved = {f"{d['tenant_id']}:{d['task_id']}:{d['audience']}" for d in new}
            await self.heads.bulk_write(
                [
                    UpdateOne({"_id": h}, {"$set": {"seq": heads[h]["seq"], "hash": heads[h]["hash"]}}, upsert=True)
                    for h in sorted(moved)
                ],
                session=session,
            )
        return placed

    async def restore(self, entry: Entry, seq: int, prev_hash: str, session: Session) -> dict:
        """Rebuild: put `entry` back at the place the live projection recorded (heads follow in reset_heads)."""
        doc = chain.seal(entry.model_dump(), seq, prev_hash)
        await self.entries.insert_one({"_id": entry.id, **doc}, session=session)
        return doc

    async def reset_heads(self) -> None:
        """Rebuild: each chain's head is its entry furthest along."""
        heads: dict[str, dict] = {}
        async for doc in self.entries.find({}, {"tenant_id": 1, "task_id": 1, "audience": 1, "seq": 1, "hash": 1}):
            head_id = f"{doc['tenant_id']}:{doc['task_id']}:{doc['audience']}"
            if head_id not in heads or heads[head_id]["seq"] < doc["seq"]:
                heads[head_id] = {"seq": doc["seq"], "hash": doc["hash"]}
        await self.heads.delete_many({})
        if heads:
            await self.heads.insert_many([{"_id": head_id, **head} for head_id, head in heads.items()])

    async def task_known(self, tenant_id: str, task_id: str) -> dict | None:
        return await self.tasks.find_one({"_id": f"{tenant_id}:{task_id}"})

    async def contact_action_ids(self, tenant_id: str, task_id: str, contact_id: str) -> list[str]:
        docs = self.actions.find(
            {"tenant_id": tenant_id, "task_id": task_id, "contact_id": contact_id}, {"action_id": 1}
        )
        return [d["action_id"] async for d in docs]

    async def page(
        self,
        tenant_id: str,
        task_id: str,
        audience: Audience,
        *,
        kinds: list[str] | None = None,
        contact_id: str | None = None,
        own_actions: list[str] | None = None,
        cursor: str | None = None,
        limit: int = 50,
    ) -> tuple[list[dict], str | None]:
        """Entries newest first (by event time, then place in the chain); the cursor continues after the last."""
        parts: list[dict[str, Any]] = [{"tenant_id": tenant_id, "task_id": task_id, "audience": audience}]
        if kinds:
            parts.append({"kind": {"$in": kinds}})
        if contact_id is not None:
            # The contact's own entries, entries about their actions, and entries about the whole task.
            parts.append(
                {
                    "$or": [
                        {"contact_id": contact_id},
                        {"contact_id": None, "action_id": {"$in": own_actions or []}},
                        {"contact_id": None, "action_id": None},
                    ]
                }
            )
        if cursor:
            parts.append(after_cursor(cursor))
        limit = max(1, min(limit, PAGE_MAX))
        docs = (
            await self.entries.find({"$and": parts}).sort([("at", -1), ("seq", -1)]).limit(limit + 1).to_list(limit + 1)
        )
        more = len(docs) > limit
        docs = docs[:limit]
        return docs, (encode_cursor(docs[-1]) if more and docs else None)

    async def head(self, tenant_id: str, task_id: str, audience: Audience) -> dict:
        doc = await self.heads.find_one({"_id": f"{tenant_id}:{task_id}:{audience}"}) or {}
        return {"seq": doc.get("seq", 0), "hash": doc.get("hash", chain.GENESIS)}

    async def chain_of(self, tenant_id: str, task_id: str, audience: Audience) -> tuple[list[dict], str | None]:
        docs = (
            await self.entries.find({"tenant_id": tenant_id, "task_id": task_id, "audience": audience})
            .sort("seq", 1)
            .to_list(None)
        )
        head = await self.heads.find_one({"_id": f"{tenant_id}:{task_id}:{audience}"})
        return docs, head["hash"] if head else None


def public(doc: dict, *, staff_reader: bool) -> dict:
    """An entry as the API shows it; ids that only make sense inside Akkoord are for staff readers."""
    at: datetime = doc["at"]
    out = {
        "id": doc["_id"],
        "kind": doc["kind"],
        "at": at.isoformat(),
        "audience": doc["audience"],
        "summary": doc["summary"],
        "actor": doc["actor"],
        "data": doc["data"],
        "seq": doc["seq"],
        "hash": doc["hash"],
    }
    if staff_reader:
        out.update(contact_id=doc.get("contact_id"), action_id=doc.get("action_id"), event_id=doc["event_id"])
    else:
        out.update(action_id=doc.get("action_id"))
    return out
