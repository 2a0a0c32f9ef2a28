"""tasks' MongoDB repository: tenants, contacts, tasks, actions, portal links and the documents it knows."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel
from pymongo import ASCENDING, DESCENDING
from pymongo.asynchronous.database import AsyncDatabase

from contracts import utcnow
from contracts.errors import NotFound
from services.runtime.mongo import Session
from services.tasks.domain import Action, Contact, DocumentVersion, Task

TASK_SORTS = {"created_at": "created_at", "updated_at": "updated_at", "title": "title", "phase": "phase"}


def to_doc(model: BaseModel) -> dict[str, Any]:
    doc = model.model_dump()
    doc["_id"] = doc.pop("id")
    return doc


def from_doc(doc: dict[str, Any]) -> dict[str, Any]:
    return {"id": doc["_id"], **{k: v for k, v in doc.items() if k != "_id"}}


class TasksStore:
    def __init__(self, db: AsyncDatabase):
        self.tenants = db["tenants"]
        self.tenant_logos = db["tenant_logos"]
        self.contacts = db["contacts"]
        self.tasks = db["tasks"]
        self.actions = db["actions"]
        self.portal_links = db["portal_links"]
        self.documents = db["documents"]
        self.rejections = db["rejections"]
        self.seeds = db["seeds"]
        self.staff_keys = db["staff_keys"]  # written through runtime.staff_keys; read here for listings

    async def ensure_indexes(self) -> None:
        await self.contacts.create_index([("tenant_id", ASCENDING), ("email_key", ASCENDING)])
        await self.contacts.create_index([("tenant_id", ASCENDING), ("company", ASCENDING)])
        await self.tasks.create_index([("tenant_id", ASCENDING), ("created_at", DESCENDING)])
        await self.tasks.create_index([("tenant_id", ASCENDING), ("phase", ASCENDING)])
        await self.actions.create_index([("tenant_id", ASCENDING), ("task_id", ASCENDING)])
        await self.actions.create_index([("status", ASCENDING), ("expires_at", ASCENDING)])
        await self.actions.create_index([("status", ASCENDING), ("next_reminder_at", ASCENDING)])
        await self.portal_links.create_index("token_hash", unique=True)

    # --- tenants ---

    async def insert_tenant(
        self,
        tenant_id: str,
        name: str,
        plan: str,
        phases: list[str],
        session: Session,
        time_zone: str = "Europe/Amsterdam",
    ) -> None:
        await self.tenants.insert_one(
            {
                "_id": tenant_id,
                "name": name,
                "plan": plan,
                "phases": phases,
                "time_zone": time_zone,
                "created_at": utcnow(),
            },
            session=session,
        )

    async def get_tenant(self, tenant_id: str, session: Session | None = None) -> dict:
        doc = await self.tenants.find_one({"_id": tenant_id}, session=session)
        if doc is None:
            raise NotFound(f"tenant {tenant_id} not found")
        return doc

    async def set_branding(self, tenant_id: str, changes: dict[str, Any], logo: bytes | None, session: Session) -> None:
        # The logo's bytes live apart: every console request reads the tenant, few read its logo.
        await self.tenants.update_one({"_id": tenant_id}, {"$set": changes}, session=session)
        if logo is not None:
            await self.tenant_logos.replace_one(
                {"_id": tenant_id}, {"_id": tenant_id, "data": logo}, upsert=True, session=session
            )

    async def set_time_zone(self, tenant_id: str, time_zone: str, session: Session) -> None:
        await self.tenants.update_one({"_id": tenant_id}, {"$set": {"time_zone": time_zone}}, session=session)

    async def logo(self, tenant_id: str) -> bytes | None:
        doc = await self.tenant_logos.find_one({"_id": tenant_id})
        return bytes(doc["data"]) if doc else None

    async def set_phases(self, tenant_id: str, phases: list[str], session: Session) -> None:
        await self.tenants.update_one({"_id": tenant_id}, {"$set": {"phases": phases}}, session=session)

    async def key_hash_taken(self, key_hash: str, session: Session) -> bool:
        return await self.staff_keys.find_one({"_id": key_hash}, session=session) is not None

    async def list_keys(self, tenant_id: str) -> list[dict]:
        return await self.staff_keys.find({"tenant_id": tenant_id}).sort("key_id", 1).to_list(500)

    async def get_key(self, tenant_id: str, key_id: str, session: Session | None = None) -> dict:
        doc = await self.staff_keys.find_one({"tenant_id": tenant_id, "key_id": key_id}, session=session)
        if doc is None:
            raise NotFound(f"key {key_id} not found")
        return doc

    # --- contacts ---

    async def save_contact(self, contact: Contact, session: Session) -> None:
        doc = {**to_doc(contact), "email_key": contact.email.casefold()}
        await self.contacts.replace_one({"_id": contact.id}, doc, upsert=True, session=session)

    async def get_contact(self, tenant_id: str, contact_id: str, session: Session | None = None) -> Contact:
        doc = await self.contacts.find_one({"_id": contact_id, "tenant_id": tenant_id}, session=session)
        if doc is None:
            raise NotFound(f"contact {contact_id} not found")
        return Contact(**from_doc(doc))

    async def list_contacts(
        self, tenant_id: str, *, company: str | None, email: str | None, include_archived: bool, limit: int, offset: int
    ) -> list[Contact]:
        query: dict[str, Any] = {"tenant_id": tenant_id}
        if company is not None:
            query["company"] = company
        if email is not None:
            query["email_key"] = email.strip().casefold()
        if not include_archived:
            query["archived"] = False
        cursor = self.contacts.find(query).sort([("name", ASCENDING), ("_id", ASCENDING)]).skip(offset).limit(limit)
        return [Contact(**from_doc(d)) for d in await cursor.to_list(limit)]

    # --- tasks ---

    async def save_task(self, task: Task, session: Session) -> None:
        await self.tasks.replace_one({"_id": task.id}, to_doc(task), upsert=True, session=session)

    async def get_task(self, tenant_id: str, task_id: str, session: Session | None = None) -> Task:
        doc = await self.tasks.find_one({"_id": task_id, "tenant_id": tenant_id}, session=session)
        if doc is None:
            raise NotFound(f"task {task_id} not found")
        return Task(**from_doc(doc))

    async def compare_and_set_phase(self, task: Task, from_phase: str, session: Session) -> bool:
        """Write the task's new phase only if it is still `from_phase`; False when someone else moved it."""
        result = await self.tasks.update_one(
            {"_id": task.id, "tenant_id": task.tenant_id, "phase": from_phase},
            {"$set": {"phase": task.phase, "updated_at": task.updated_at}},
            session=session,
        )
        return result.matched_count == 1

    async def list_tasks(
        self,
        tenant_id: str,
        *,
        phase: str | None,
        contact_id: str | None,
        has_open_action: bool | None,
        sort: str,
        limit: int,
        offset: int,
    ) -> list[Task]:
        query: dict[str, Any] = {"tenant_id": tenant_id}
        if phase is not None:
            query["phase"] = phase
        if contact_id is not None:
            query["contact_id"] = contact_id
        if has_open_action is not None:
            open_ids = list(await self.task_ids_with_open_actions(tenant_id))
            query["_id"] = {"$in": open_ids} if has_open_action else {"$nin": open_ids}
        field, direction = sort.lstrip("-"), DESCENDING if sort.startswith("-") else ASCENDING
        cursor = (
            self.tasks.find(query).sort([(TASK_SORTS[field], direction), ("_id", direction)]).skip(offset).limit(limit)
        )
        return [Task(**from_doc(d)) for d in await cursor.to_list(limit)]

    async def any_task_in(self, tenant_id: str, phases: list[str], session: Session) -> dict | None:
        return await self.tasks.find_one({"tenant_id": tenant_id, "phase": {"$in": phases}}, session=session)

    # --- actions ---

    async def insert_action(self, action: Action, session: Session) -> None:
        await self.actions.insert_one({**to_doc(action), "next_reminder_at": action.next_reminder_at}, session=session)

    async def get_action(self, tenant_id: str, action_id: str, session: Session | None = None) -> Action:
        doc = await self.actions.find_one({"_id": action_id, "tenant_id": tenant_id}, session=session)
        if doc is None:
            raise NotFound(f"action {action_id} not found")
        return Action(**from_doc(doc))

    async def actions_of(self, tenant_id: str, task_id: str, session: Session | None = None) -> list[Action]:
        docs = await (
            self.actions.find({"tenant_id": tenant_id, "task_id": task_id}, session=session)
            .sort("created_at", 1)
            .to_list(500)
        )
        return [Action(**from_doc(d)) for d in docs]

    async def close_action(self, action: Action, session: Session) -> bool:
        """Record the action's terminal status only if it is still open (one writer wins)."""
        result = await self.actions.update_one(
            {"_id": action.id, "tenant_id": action.tenant_id, "status": "open"},
            {
                "$set": {
                    "status": action.status,
                    "closed_at": action.closed_at,
                    "close_reason": action.close_reason,
                    "signed_event_id": action.signed_event_id,
                    "declined_event_id": action.declined_event_id,
                    "next_reminder_at": None,
                }
            },
            session=session,
        )
        return result.matched_count == 1

    async def count_reminder(self, action: Action, session: Session) -> bool:
        """Record one more reminder sent, only if no one else counted it (one replica wins)."""
        result = await self.actions.update_one(
            {
                "_id": action.id,
                "tenant_id": action.tenant_id,
                "status": "open",
                "reminders_sent": action.reminders_sent - 1,
            },
            {"$set": {"reminders_sent": action.reminders_sent, "next_reminder_at": action.next_reminder_at}},
            session=session,
        )
        return result.matched_count == 1

    async def due_reminders(self, now: datetime, limit: int = 100) -> list[Action]:
        docs = await (
            self.actions.find({"status": "open", "next_reminder_at": {"$lte": now}}).limit(limit).to_list(limit)
        )
        return [Action(**from_doc(d)) for d in docs]

    async def overdue_actions(self, now: datetime, limit: int = 100) -> list[Action]:
        docs = await self.actions.find({"status": "open", "expires_at": {"$lte": now}}).limit(limit).to_list(limit)
        return [Action(**from_doc(d)) for d in docs]

    async def task_ids_with_open_actions(self, tenant_id: str) -> set[str]:
        docs = await self.actions.find({"tenant_id": tenant_id, "status": "open"}, {"task_id": 1}).to_list(None)
        return {d["task_id"] for d in docs}

    # --- portal links, documents, rejected commands, seeds ---

    async def insert_portal_link(self, doc: dict, session: Session) -> None:
        await self.portal_links.insert_one(doc, session=session)

    async def save_document_version(self, version: DocumentVersion, session: Session) -> None:
        await self.documents.replace_one(
            {"_id": version.document_id}, {**version.model_dump(), "updated_at": utcnow()}, upsert=True, session=session
        )

    async def find_document(self, tenant_id: str, document_id: str) -> DocumentVersion | None:
        doc = await self.documents.find_one({"_id": document_id, "tenant_id": tenant_id})
        return DocumentVersion(**doc) if doc else None

    async def record_rejection(
        self, event_id: str, tenant_id: str, kind: str, reason: str, session: Session, **details: Any
    ) -> None:
        await self.rejections.insert_one(
            {
                "_id": event_id,
                "tenant_id": tenant_id,
                "kind": kind,
                "reason": reason,
                "details": details,
                "at": utcnow(),
            },
            session=session,
        )

    async def get_seed(self, name: str) -> dict | None:
        return await self.seeds.find_one({"_id": name})

    async def save_seed(self, name: str, values: dict, session: Session) -> None:
        await self.seeds.replace_one({"_id": name}, {"_id": name, **values}, upsert=True, session=session)
