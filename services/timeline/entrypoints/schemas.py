"""Response shapes of the timeline API (for the OpenAPI document)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field


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


class AnchorMismatch(BaseModel):
    evidence_id: str
    audience: str
    seq: int
    anchored: str
    found: str | None = Field(None, description="the hash at that place here; none when the chain is shorter")


class AnchorComparison(BaseModel):
    """The chain held against the heads signing anchored in the evidence of the task's seals."""

    compared: bool
    reason: str | None = None
    checked: int = 0
    mismatched: list[AnchorMismatch] = []
    unanchored: list[str] = Field([], description="evidence ids of seals made without an anchor")


class Verification(BaseModel):
    task_id: str
    valid: bool = Field(description="every chain verifies and none differs from a head anchored in signing evidence")
    audiences: dict[str, ChainVerdict]
    anchors: AnchorComparison


class ChainHead(BaseModel):
    seq: int
    hash: str


class Heads(BaseModel):
    task_id: str
    heads: dict[str, ChainHead]
