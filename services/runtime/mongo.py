from __future__ import annotations

from typing import Any

from pymongo import AsyncMongoClient
from pymongo.asynchronous.client_session import AsyncClientSession

Session = AsyncClientSession


def connect(uri: str) -> AsyncMongoClient:
    return AsyncMongoClient(uri, tz_aware=True, uuidRepresentation="standard")


def strip_id(doc: dict[str, Any] | None) -> dict[str, Any] | None:
    if doc is not None:
        doc.pop("_id", None)
    return doc
