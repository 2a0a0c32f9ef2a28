from __future__ import annotations

from typing import Any

from pymongo import AsyncMongoClient
from pymongo.asynchronous.client_session import AsyncClientSession

Session = AsyncClientSession


def connect(uri: str) -> AsyncMongoClient[Any]:
    return AsyncMongoClient(uri, tz_aware=True, uuidRepresentation="standard")
