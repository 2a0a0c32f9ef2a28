"""Response shapes of the timeline API (for the OpenAPI document)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel


class EntryOut(BaseModel):
    id: str
    kind: str
    at: str
    audience: Literal["staff", "portal"]
    summary: str
    actor: dict[str, Any]
    data: dict[str, Any]
    seq: int
    hash: str
    action_id: str | None = None
    contact_id: str | None = None  # staff readers only
    event_id: str | None = None  # staff readers only
    # Staff readers: the entry's files as paths of a service's staff API (internal URLs never leave).
    links: list[dict[str, str]] = []


class TimelinePage(BaseModel):
    entries: list[EntryOut]
    next_cursor: str | None = None


class ChainVerdict(BaseModel):
    valid: bool
    entries: int
    head: str
    broken_at: int | None = None
    reason: str | None = None


class Verification(BaseModel):
    task_id: str
    valid: bool
    audiences: dict[str, ChainVerdict]


class ChainHead(BaseModel):
    seq: int
    hash: str


class Heads(BaseModel):
    task_id: str
    heads: dict[str, ChainHead]
