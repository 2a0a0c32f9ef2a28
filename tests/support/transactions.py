"""A database server's transaction lifetime, shortened while a test kills processes mid-transaction.

A process that dies inside a transaction leaves it open on the server until its lifetime ends (60 s by
default, MongoDB's and SecantusDB's): the restarted process's write of the same record waits for that. Tests
that kill on purpose shorten the wait, and put the server's value back afterwards."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from pymongo import AsyncMongoClient, MongoClient

PARAMETER = "transactionLifetimeLimitSeconds"


@asynccontextmanager
async def transaction_lifetime(uri: str, seconds: int) -> AsyncIterator[None]:
    client: AsyncMongoClient = AsyncMongoClient(uri)
    try:
        was = (await client.admin.command({"setParameter": 1, PARAMETER: seconds}))["was"]
        try:
            yield
        finally:
            await client.admin.command({"setParameter": 1, PARAMETER: was})
    finally:
        await client.close()


def shorten_transaction_lifetime(uri: str, seconds: int) -> None:
    """For a database of a test's own (nothing to put back: it goes with the test)."""
    client: MongoClient = MongoClient(uri)
    try:
        client.admin.command({"setParameter": 1, PARAMETER: seconds})
    finally:
        client.close()
