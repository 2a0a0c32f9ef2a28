"""Webhook endpoints and deliveries in automation's database. A delivery is written in the same
transaction as the event's tracking record (an outbox for HTTP), and claimed with a lease so that
several replicas never send the same attempt twice at once."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from pymongo import ReturnDocument
from pymongo.asynchronous.database import AsyncDatabase

from services.automation.webhooks import KEEP_ATTEMPTS
from services.runtime.mongo import Session

KEEP_FINISHED = timedelta(days=30)


class WebhookStore:
    def __init__(self, db: AsyncDatabase):
        self.endpoints = db["webhook_endpoints"]
        self.deliveries = db["webhook_deliveries"]

    async def ensure_indexes(self) -> None:
        await self.endpoints.create_index([("tenant_id", 1), ("event_types", 1), ("enabled", 1)])
        await self.deliveries.create_index([("status", 1), ("next_attempt_at", 1)])
        await self.deliveries.create_index([("tenant_id", 1), ("endpoint_id", 1), ("created_at", -1)])
        await self.deliveries.create_index(
            "finished_at", expireAfterSeconds=int(KEEP_FINISHED.total_seconds()), name="finished_ttl"
        )

    # -- endpoints --

    async def add_endpoint(self, doc: dict[str, Any]) -> None:
        await self.endpoints.insert_one(doc)

    async def endpoint(self, tenant_id: str, endpoint_id: str, session: Session | None = None) -> dict | None:
        return await self.endpoints.find_one({"_id": endpoint_id, "tenant_id": tenant_id}, session=session)

    async def list_endpoints(self, tenant_id: str) -> list[dict]:
        return await self.endpoints.find({"tenant_id": tenant_id}).sort("created_at", 1).to_list(None)

    async def remove_endpoint(self, tenant_id: str, endpoint_id: str) -> bool:
        return (await self.endpoints.delete_one({"_id": endpoint_id, "tenant_id": tenant_id})).deleted_count == 1

    async def subscribed(self, tenant_id: str, event_type: str, session: Session | None = None) -> list[dict]:
        return await self.endpoints.find(
            {"tenant_id": tenant_id, "event_types": event_type, "enabled": True}, session=session
        ).to_list(None)

    # -- deliveries --

    async def enqueue(self, doc: dict[str, Any], session: Session) -> None:
        await self.deliveries.update_one({"_id": doc["_id"]}, {"$setOnInsert": doc}, upsert=True, session=session)

    async def claim_due(self, now: datetime, lease: timedelta, skip_tenants: Sequence[str] = ()) -> dict | None:
        """Claim a due delivery for one attempt, counted in the same update: an attempt that takes the process
        with it has been counted all the same. `unfinished_since` is when the previous attempt started, if it
        never recorded its outcome (the process ended during it)."""
        query: dict[str, Any] = {"status": "pending", "next_attempt_at": {"$lte": now}}
        if skip_tenants:
            query["tenant_id"] = {"$nin": list(skip_tenants)}
        before = await self.deliveries.find_one_and_update(
            query,
            {"$inc": {"attempt_count": 1}, "$set": {"next_attempt_at": now + lease, "attempt_started_at": now}},
            sort=[("next_attempt_at", 1)],
            return_document=ReturnDocument.BEFORE,
        )
        if before is None:
            return None
        return {
            **before,
            "attempt_count": before.get("attempt_count", 0) + 1,
            "next_attempt_at": now + lease,
            "attempt_started_at": now,
            "unfinished_since": before.get("attempt_started_at"),
        }

    async def record_attempt(
        self,
        delivery_id: str,
        attempt: dict[str, Any],
        *,
        status: str,
        next_attempt_at: datetime | None,
        finished_at: datetime | None,
        sent: bool = True,
    ) -> None:
        """Record an attempt's outcome. `sent=False`: the claim only found the previous attempt unfinished and
        records that one, so its own count is taken back."""
        await self.deliveries.update_one(
            {"_id": delivery_id},
            {
                "$push": {"attempts": {"$each": [attempt], "$slice": -KEEP_ATTEMPTS}},
                "$set": {
                    "status": status,
                    "next_attempt_at": next_attempt_at,
                    "finished_at": finished_at,
                    "attempt_started_at": None,
                },
                **({} if sent else {"$inc": {"attempt_count": -1}}),
            },
        )

    async def deliveries_of(self, tenant_id: str, endpoint_id: str, limit: int) -> list[dict]:
        return (
            await self.deliveries.find({"tenant_id": tenant_id, "endpoint_id": endpoint_id}, {"body": 0})
            .sort("created_at", -1)
            .limit(limit)
            .to_list(None)
        )
