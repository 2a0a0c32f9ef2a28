"""Reads the console lists need beyond the staff API's: search by title or contact, filter by request state."""

from __future__ import annotations

import re
from typing import Any, Literal

from pymongo import DESCENDING
from pymongo.asynchronous.database import AsyncDatabase

from services.tasks.adapters.mongo import from_doc
from services.tasks.domain import Action, Contact, Task

# What the customer did with a task's latest request.
RequestState = Literal["waiting", "signed", "declined", "expired"]
STATE_OF_STATUS = {"open": "waiting", "completed": "signed", "declined": "declined", "expired": "expired"}


class ConsoleQueries:
    def __init__(self, db: AsyncDatabase):
        self.tasks, self.actions, self.contacts = db["tasks"], db["actions"], db["contacts"]

    async def latest_states(self, tenant_id: str, task_ids: list[str] | None = None) -> dict[str, str]:
        """task id -> the state of its most recent request (cancelled ones left out)."""
        query: dict[str, Any] = {"tenant_id": tenant_id, "status": {"$ne": "cancelled"}}
        if task_ids is not None:
            query["task_id"] = {"$in": task_ids}
        states: dict[str, str] = {}
        async for doc in self.actions.find(query, {"task_id": 1, "status": 1}).sort("created_at", DESCENDING):
            states.setdefault(doc["task_id"], STATE_OF_STATUS.get(doc["status"], doc["status"]))
        return states

    async def find_tasks(
        self,
        tenant_id: str,
        *,
        phase: str | None,
        state: RequestState | None,
        text: str | None,
        limit: int,
        offset: int,
    ) -> tuple[list[Task], dict[str, str], dict[str, Contact]]:
        """Newest first; one more than `limit`, to tell whether there is a next page."""
        query: dict[str, Any] = {"tenant_id": tenant_id}
        if phase:
            query["phase"] = phase
        if state:
            states = await self.latest_states(tenant_id)
            query["_id"] = {"$in": [task_id for task_id, s in states.items() if s == state]}
        if text:
            pattern = {"$regex": re.escape(text.strip()), "$options": "i"}
            contact_ids = [
                d["_id"]
                async for d in self.contacts.find(
                    {"tenant_id": tenant_id, "$or": [{"name": pattern}, {"email": pattern}, {"company": pattern}]},
                    {"_id": 1},
                )
            ]
            query["$or"] = [{"title": pattern}, {"contact_id": {"$in": contact_ids}}]
        cursor = self.tasks.find(query).sort([("created_at", DESCENDING), ("_id", DESCENDING)]).skip(offset)
        tasks = [Task(**from_doc(d)) for d in await cursor.limit(limit + 1).to_list(limit + 1)]
        ids = [t.id for t in tasks]
        contacts = await self.contacts_by_id(tenant_id, [t.contact_id for t in tasks if t.contact_id])
        return tasks, await self.latest_states(tenant_id, ids), contacts

    async def contacts_by_id(self, tenant_id: str, ids: list[str]) -> dict[str, Contact]:
        docs = await self.contacts.find({"tenant_id": tenant_id, "_id": {"$in": ids}}).to_list(len(ids) or 1)
        return {d["_id"]: Contact(**from_doc(d)) for d in docs}

    async def find_contacts(
        self, tenant_id: str, *, text: str | None, archived: bool, limit: int, offset: int
    ) -> list[Contact]:
        query: dict[str, Any] = {"tenant_id": tenant_id, "archived": archived}
        if text:
            pattern = {"$regex": re.escape(text.strip()), "$options": "i"}
            query["$or"] = [{"name": pattern}, {"email": pattern}, {"company": pattern}]
        cursor = self.contacts.find(query).sort([("name", 1), ("_id", 1)]).skip(offset).limit(limit + 1)
        return [Contact(**from_doc(d)) for d in await cursor.to_list(limit + 1)]

    async def all_contacts(self, tenant_id: str) -> list[Contact]:
        docs = await self.contacts.find({"tenant_id": tenant_id, "archived": False}).sort("name", 1).to_list(2000)
        return [Contact(**from_doc(d)) for d in docs]

    async def open_actions_of_contact(self, tenant_id: str, contact_id: str) -> list[Action]:
        docs = (
            await self.actions.find({"tenant_id": tenant_id, "contact_id": contact_id, "status": "open"})
            .sort("created_at", DESCENDING)
            .to_list(200)
        )
        return [Action(**from_doc(d)) for d in docs]
