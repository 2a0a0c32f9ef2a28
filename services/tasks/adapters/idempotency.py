"""Idempotency-Key support: the first response to a keyed request is stored with the state it created.

The record is written inside the same transaction as the request's effect, keyed by tenant, route and
key, so two racing retries cannot both create: the loser's transaction fails on the unique `_id`, and
it replays the winner's response instead.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from pydantic import BaseModel
from pymongo.asynchronous.database import AsyncDatabase

from contracts import utcnow
from contracts.errors import Invalid
from services.runtime.mongo import Session


@dataclass(frozen=True)
class IdempotencyKey:
    scope: str  # tenant + route + the client's key
    fingerprint: str  # SHA-256 of the request body

    @classmethod
    def of(cls, tenant_id: str, route: str, key: str, body: BaseModel | None) -> IdempotencyKey:
        raw = body.model_dump_json().encode() if body is not None else b""
        return cls(scope=f"{tenant_id}:{route}:{key}", fingerprint=hashlib.sha256(raw).hexdigest())


@dataclass(frozen=True)
class StoredResponse:
    response: Any
    withheld: list[str]  # response fields that were secrets: sent once, not stored


class IdempotencyRecords:
    def __init__(self, db: AsyncDatabase, keep: timedelta):
        self.records = db["idempotency"]
        self.keep = keep

    async def ensure_indexes(self) -> None:
        # Each record carries its own expiry, so changing the retention needs no index rebuild.
        await self.records.create_index("expires_at", expireAfterSeconds=0)

    async def replay(self, key: IdempotencyKey) -> StoredResponse | None:
        """The stored response for `key`, or None; the same key with another body is refused."""
        doc = await self.records.find_one({"_id": key.scope})
        if doc is None:
            return None
        if doc["fingerprint"] != key.fingerprint:
            raise Invalid(
                "this Idempotency-Key was already used with a different request body",
                errors=[{"field": "Idempotency-Key", "message": "reused with another body"}],
            )
        return StoredResponse(doc["response"], doc.get("withheld", []))

    async def record(self, key: IdempotencyKey, response: Any, session: Session, withheld: list[str]) -> None:
        await self.records.insert_one(
            {
                "_id": key.scope,
                "fingerprint": key.fingerprint,
                "response": response,
                "withheld": withheld,
                "created_at": utcnow(),
                "expires_at": utcnow() + self.keep,
            },
            session=session,
        )
