"""automation.events: what rules did beyond commands to tasks."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel

from contracts.envelope import Envelope


class NoteAddedPayload(BaseModel):
    """A note on a task's staff timeline, written by an automation rule."""

    text: str
    audience: Literal["staff"] = "staff"
    rule_id: str | None = None
    rule_name: str | None = None


class TimelineNoteAdded(Envelope):
    type: Literal["timeline.note_added"] = "timeline.note_added"
    payload: NoteAddedPayload
