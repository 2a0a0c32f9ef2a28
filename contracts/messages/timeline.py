"""timeline.chain: where timeline placed each entry (its own log, read back by a rebuild)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel

from contracts.envelope import Envelope


class EntryAppendedPayload(BaseModel):
    """One entry's place in its task's hash chain, and what the projection knew beside the event."""

    entry_id: str
    event_id: str  # the event the entry shows
    audience: Literal["staff", "portal"]
    seq: int
    prev_hash: str
    content_hash: str
    hash: str
    # Names and the action's request as the projection knew them when it wrote the entry: read back by a
    # rebuild, so the entry is rebuilt from the event with exactly the same content (opaque to others).
    known: dict[str, Any] = {}


class TimelineEntryAppended(Envelope):
    type: Literal["timeline.entry_appended"] = "timeline.entry_appended"
    payload: EntryAppendedPayload
