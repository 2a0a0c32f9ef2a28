"""The portal's own collections: the read model of contacts/tasks/actions, sessions, used links, signatures."""

from __future__ import annotations

from datetime import datetime

from bson import Binary
from pymongo import ASCENDING, DESCENDING, ReturnDocument
from pymongo.asynchronous.database import AsyncDatabase

from services.runtime.mongo import Session

NO_ID = {"_id": 0}


class PortalStore:
    def __init__(self, db: AsyncDatabase):
        self.contacts = db["contacts"]
        self.tasks = db["tasks"]
        self.actions = db["actions"]
        self.sessions = db["sessions"]
        self.used_links = db["used_links"]
        self.signatures = db["signatures"]
        self.declines = db["declines"]
        self.brands = db["brands"]

    async def ensure_indexes(self) -> None:
        await self.contacts.create_index([("tenant_id", ASCENDING), ("contact_id", ASCENDING)], unique=True)
        await self.tasks.create_index([("tenant_id", ASCENDING), ("task_id", ASCENDING)], unique=True)
        await self.tasks.create_index([("tenant_id", ASCENDING), ("contact_id", ASCENDING)])
        await self.actions.create_index("action_id", unique=True)
        await self.actions.create_index([("tenant_id", ASCENDING), ("contact_id", ASCENDING), ("status", ASCENDING)])
        await self.used_links.create_index("link_id", unique=True)
        await self.sessions.create_index("expires_at", expireAfterSeconds=0)
        await self.sessions.create_index("session_id", unique=True)
        # Exactly one signature and one decline per action, whatever the number of tabs or clicks.
        await self.signatures.create_index("action_id", unique=True)
        await self.declines.create_index("action_id", unique=True)
        await self.brands.create_index("tenant_id", unique=True)

    # --- read model (written by the tasks.events projection) ---

    async def upsert_contact(self, tenant_id: str, contact: dict, session: Session) -> None:
        await self.contacts.update_one(
            {"tenant_id": tenant_id, "contact_id": contact["contact_id"]},
            {"$set": {**contact, "tenant_id": tenant_id}},
            upsert=True,
            session=session,
        )

    async def upsert_task(self, tenant_id: str, task: dict, session: Session) -> None:
        await self.tasks.update_one(
            {"tenant_id": tenant_id, "task_id": task["task_id"]},
            {"$set": {**task, "tenant_id": tenant_id}},
            upsert=True,
            session=session,
        )

    async def set_task_phase(self, tenant_id: str, task_id: str, phase: str, session: Session) -> None:
        await self.tasks.update_one(
            {"tenant_id": tenant_id, "task_id": task_id}, {"$set": {"phase": phase}}, upsert=True, session=session
        )

    async def add_action(self, action: dict, session: Session) -> None:
        fixed = {k: action[k] for k in ("status",)}
        await self.actions.update_one(
            {"action_id": action["action_id"]},
            {"$set": {k: v for k, v in action.items() if k not in fixed}, "$setOnInsert": fixed},
            upsert=True,
            session=session,
        )

    async def close_action(
        self, tenant_id: str, action_id: str, status: str, at: datetime, session: Session, *, only_if_open: bool = True
    ) -> bool:
        query = {"tenant_id": tenant_id, "action_id": action_id}
        if only_if_open:
            query["status"] = "open"
        result = await self.actions.update_one(query, {"$set": {"status": status, "closed_at": at}}, session=session)
        return result.matched_count == 1

    async def reject_submission(
        self, tenant_id: str, action_id: str, action_status: str, submission: str, at: datetime, session: Session
    ) -> None:
        """The portal closed it as completed (declined) when it took the signing (decline); tasks had closed it
        otherwise first. `submission` is "signing" or "decline"."""
        await self.actions.update_one(
            {"tenant_id": tenant_id, "action_id": action_id},
            {"$set": {"status": action_status, f"{submission}_rejected_at": at}},
            session=session,
        )

    async def set_artefact(self, tenant_id: str, action_id: str, name: str, url: str, session: Session) -> None:
        await self.actions.update_one(
            {"tenant_id": tenant_id, "action_id": action_id}, {"$set": {f"artefacts.{name}": url}}, session=session
        )

    async def set_time_zone(self, tenant_id: str, time_zone: str, session: Session) -> None:
        # Beside the branding: one read gives a page everything it shows of the tenant.
        await self.brands.update_one(
            {"tenant_id": tenant_id},
            {"$set": {"time_zone": time_zone, "tenant_id": tenant_id}},
            upsert=True,
            session=session,
        )

    async def set_brand(self, tenant_id: str, brand: dict, session: Session) -> None:
        await self.brands.update_one(
            {"tenant_id": tenant_id}, {"$set": {**brand, "tenant_id": tenant_id}}, upsert=True, session=session
        )

    # --- queries for the session's contact ---

    async def brand(self, tenant_id: str) -> dict | None:
        return await self.brands.find_one({"tenant_id": tenant_id}, NO_ID)

    async def contact(self, tenant_id: str, contact_id: str) -> dict | None:
        return await self.contacts.find_one({"tenant_id": tenant_id, "contact_id": contact_id}, NO_ID)

    async def action(self, tenant_id: str, action_id: str, session: Session | None = None) -> dict | None:
        return await self.actions.find_one({"tenant_id": tenant_id, "action_id": action_id}, NO_ID, session=session)

    async def actions_of(self, tenant_id: str, contact_id: str, task_ids: list[str] | None = None) -> list[dict]:
        query: dict = {"tenant_id": tenant_id, "contact_id": contact_id}
        if task_ids is not None:
            query["task_id"] = {"$in": task_ids}
        return await self.actions.find(query, NO_ID).sort("requested_at", DESCENDING).to_list(500)

    async def tasks_of(self, tenant_id: str, contact_id: str, extra_task_ids: list[str]) -> list[dict]:
        query = {"tenant_id": tenant_id, "$or": [{"contact_id": contact_id}, {"task_id": {"$in": extra_task_ids}}]}
        return await self.tasks.find(query, NO_ID).to_list(500)

    async def task(self, tenant_id: str, task_id: str) -> dict | None:
        return await self.tasks.find_one({"tenant_id": tenant_id, "task_id": task_id}, NO_ID)

    # --- sessions and links ---

    async def use_link(self, link: dict, session: Session) -> None:
        """Raises DuplicateKeyError when the link was used before."""
        await self.used_links.insert_one(link, session=session)

    async def link_used(self, link_id: str) -> bool:
        return await self.used_links.find_one({"link_id": link_id}, {"_id": 1}) is not None

    async def create_session(self, doc: dict, session: Session) -> None:
        await self.sessions.insert_one(doc, session=session)

    async def find_session(self, session_hash: str, now: datetime) -> dict | None:
        return await self.sessions.find_one({"_id": session_hash, "expires_at": {"$gt": now}})

    async def set_session_language(self, session_hash: str, language: str) -> None:
        await self.sessions.update_one({"_id": session_hash}, {"$set": {"language": language}})

    async def set_pending_otp(self, session_id: str, pending: dict) -> None:
        await self.sessions.update_one({"session_id": session_id}, {"$set": {"otp": pending}})

    async def pending_otp(self, session_id: str) -> dict | None:
        doc = await self.sessions.find_one({"session_id": session_id}, {"otp": 1})
        return (doc or {}).get("otp")

    async def count_wrong_code(self, tenant_id: str, action_id: str) -> int:
        """One more wrong code for this action (whatever the session or the code); the count so far."""
        doc = await self.actions.find_one_and_update(
            {"tenant_id": tenant_id, "action_id": action_id},
            {"$inc": {"otp_failures": 1}},
            projection={"otp_failures": 1},
            return_document=ReturnDocument.AFTER,
        )
        return int((doc or {}).get("otp_failures", 0))

    async def mark_second_factor(self, session_id: str) -> None:
        await self.sessions.update_one(
            {"session_id": session_id}, {"$set": {"auth_method": "magic_link+otp"}, "$unset": {"otp": ""}}
        )

    async def delete_session(self, session_hash: str) -> None:
        await self.sessions.delete_one({"_id": session_hash})

    # --- signatures and declines ---

    async def add_signature(self, doc: dict, image: bytes, session: Session) -> None:
        """Raises DuplicateKeyError when the action already has a signature."""
        await self.signatures.insert_one({**doc, "image": Binary(image)}, session=session)

    async def add_decline(self, doc: dict, session: Session) -> None:
        await self.declines.insert_one(doc, session=session)

    async def signature_image(self, signature_id: str) -> dict | None:
        return await self.signatures.find_one(
            {"_id": signature_id}, {"image": 1, "media_type": 1, "tenant_id": 1, "image_digest": 1}
        )
