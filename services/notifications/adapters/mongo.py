"""Notifications' database: what it projects (tenants, contacts, documents, actions), the tenants' mail
settings, and the notification records — written in the transaction of the event that causes them, and
claimed with a lease by the delivery loop so that two replicas never send the same attempt at once; the claim
counts the attempt, so one that ends the process is counted too."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from pymongo import ReturnDocument

from services.notifications.domain import ActionFacts, Brand, Claim, Notification, Prefs, Recipient
from services.runtime.mongo import Session

KEEP_FINISHED = timedelta(days=90)


class NotificationStore:
    def __init__(self, db: Any):
        self.tenants = db["tenants"]
        self.contacts = db["contacts"]
        self.documents = db["documents"]
        self.actions = db["actions"]
        self.prefs = db["prefs"]
        self.notifications = db["notifications"]

    async def ensure_indexes(self) -> None:
        await self.notifications.create_index([("status", 1), ("next_attempt_at", 1)])
        await self.notifications.create_index([("tenant_id", 1), ("task_id", 1), ("created_at", -1)])
        await self.notifications.create_index(
            "finished_at", expireAfterSeconds=int(KEEP_FINISHED.total_seconds()), name="finished_ttl"
        )

    # -- projections --

    async def save_tenant(self, tenant_id: str, brand: Brand, session: Session) -> None:
        branding = brand.model_dump(exclude={"time_zone"})
        await self.tenants.update_one({"_id": tenant_id}, {"$set": branding}, upsert=True, session=session)

    async def set_time_zone(self, tenant_id: str, time_zone: str, session: Session) -> None:
        await self.tenants.update_one(
            {"_id": tenant_id}, {"$set": {"time_zone": time_zone}}, upsert=True, session=session
        )

    async def brand(self, tenant_id: str, session: Session | None = None) -> Brand:
        doc = await self.tenants.find_one({"_id": tenant_id}, session=session)
        return Brand.model_validate(doc) if doc else Brand()

    async def save_contact(self, tenant_id: str, contact: Recipient, archived: bool, session: Session) -> None:
        await self.contacts.update_one(
            {"_id": f"{tenant_id}:{contact.contact_id}"},
            {"$set": {**contact.model_dump(), "archived": archived}},
            upsert=True,
            session=session,
        )

    async def contact(self, tenant_id: str, contact_id: str, session: Session | None = None) -> Recipient | None:
        doc = await self.contacts.find_one({"_id": f"{tenant_id}:{contact_id}"}, session=session)
        if doc is None or doc.get("archived"):
            return None
        return Recipient.model_validate(doc)

    async def save_document(self, tenant_id: str, document_id: str, title: str, session: Session) -> None:
        await self.documents.update_one(
            {"_id": f"{tenant_id}:{document_id}"}, {"$set": {"title": title}}, upsert=True, session=session
        )

    async def document_title(self, tenant_id: str, document_id: str | None, session: Session) -> str | None:
        if not document_id:
            return None
        doc = await self.documents.find_one({"_id": f"{tenant_id}:{document_id}"}, session=session)
        return doc["title"] if doc else None

    async def save_action(self, tenant_id: str, action: ActionFacts, session: Session) -> None:
        await self.actions.update_one(
            {"_id": f"{tenant_id}:{action.action_id}"},
            {"$set": action.model_dump(exclude={"replaces"})},
            upsert=True,
            session=session,
        )

    async def action(self, tenant_id: str, action_id: str, session: Session) -> ActionFacts | None:
        doc = await self.actions.find_one({"_id": f"{tenant_id}:{action_id}"}, session=session)
        return ActionFacts.model_validate(doc) if doc else None

    async def note_replacement(self, tenant_id: str, successor_id: str, replaced_id: str, session: Session) -> None:
        # The cancellation comes just before its successor's request (one transaction in tasks, same key).
        await self.actions.update_one(
            {"_id": f"{tenant_id}:{successor_id}"}, {"$set": {"replaces": replaced_id}}, upsert=True, session=session
        )

    async def replaced(self, tenant_id: str, action_id: str, session: Session) -> str | None:
        doc = await self.actions.find_one({"_id": f"{tenant_id}:{action_id}"}, {"replaces": 1}, session=session)
        return (doc or {}).get("replaces")

    # -- the tenant's settings --

    async def prefs_of(self, tenant_id: str, session: Session | None = None) -> Prefs:
        doc = await self.prefs.find_one({"_id": tenant_id}, session=session)
        return Prefs.model_validate(doc) if doc else Prefs()

    async def save_prefs(self, tenant_id: str, prefs: Prefs) -> None:
        await self.prefs.update_one({"_id": tenant_id}, {"$set": prefs.model_dump()}, upsert=True)

    # -- notifications --

    async def queue(self, notification: Notification, session: Session) -> None:
        doc = notification.model_dump()
        await self.notifications.update_one({"_id": doc.pop("id")}, {"$setOnInsert": doc}, upsert=True, session=session)

    async def claim_due(self, now: datetime, lease: timedelta) -> Claim | None:
        """Claim a due mail for one attempt, counted in the same update: an attempt that takes the process with
        it has been counted all the same, and the claim after its lease finds it unfinished."""
        before = await self.notifications.find_one_and_update(
            {"status": "pending", "next_attempt_at": {"$lte": now}},
            {"$inc": {"attempt_count": 1}, "$set": {"next_attempt_at": now + lease, "attempt_started_at": now}},
            sort=[("next_attempt_at", 1)],
            return_document=ReturnDocument.BEFORE,
        )
        if before is None:
            return None
        claimed = {**before, "attempt_count": before.get("attempt_count", 0) + 1, "next_attempt_at": now + lease}
        return Claim(notification=_notification(claimed), unfinished_since=before.get("attempt_started_at"))

    async def record(
        self,
        notification_id: str,
        *,
        status: str,
        error: str | None,
        next_attempt_at: datetime | None,
        now: datetime,
        attempted: bool = True,
    ) -> None:
        """Record an attempt's outcome, which ends it. `attempted=False`: the claim only found the previous
        attempt unfinished and records that one, sending nothing, so its own count is taken back."""
        finished = status != "pending"
        await self.notifications.update_one(
            {"_id": notification_id},
            {
                "$set": {
                    "status": status,
                    "last_error": error,
                    "next_attempt_at": next_attempt_at,
                    "sent_at": now if status == "sent" else None,
                    "finished_at": now if finished else None,
                    "attempt_started_at": None,
                },
                **({} if attempted else {"$inc": {"attempt_count": -1}}),
            },
        )

    async def of_task(self, tenant_id: str, task_id: str | None, limit: int) -> list[Notification]:
        query: dict[str, Any] = {"tenant_id": tenant_id}
        if task_id:
            query["task_id"] = task_id
        docs = await self.notifications.find(query).sort("created_at", -1).limit(limit).to_list(None)
        return [_notification(d) for d in docs]

    async def count(self, status: str) -> int:
        return await self.notifications.count_documents({"status": status})


def _notification(doc: dict[str, Any]) -> Notification:
    return Notification.model_validate({**doc, "id": doc["_id"]})
