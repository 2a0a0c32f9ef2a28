from __future__ import annotations

from typing import Any, Awaitable, Callable, TypeVar

from motor.motor_asyncio import AsyncIOMotorClient, AsyncIOMotorClientSession

T = TypeVar("T")
Session = AsyncIOMotorClientSession


def connect(uri: str) -> AsyncIOMotorClient:
    return AsyncIOMotorClient(uri, tz_aware=True, uuidRepresentation="standard")


async def in_transaction(client: AsyncIOMotorClient, work: Callable[[Session], Awaitable[T]]) -> T:
    """Run `work` in one multi-document transaction, retried on transient errors by the driver."""
    async with await client.start_session() as session:
        return await session.with_transaction(work)


def strip_id(doc: dict[str, Any] | None) -> dict[str, Any] | None:
    if doc is not None:
        doc.pop("_id", None)
    return doc
