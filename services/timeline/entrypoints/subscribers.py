"""Topic -> handler registration for the timeline, in one visible place."""

from __future__ import annotations

from contracts.messages import Kind, messages
from contracts.topics import EVENT_TOPICS, Groups
from services.runtime.acceptance import SUBMITTED
from services.runtime.consumer import Consumer
from services.runtime.staff_auth import StaffKeys
from services.timeline.handlers import Timeline

# Every fact on the event topics (tenant and key events too: they carry no task, so they add no entry);
# commands are not facts, and timeline's own chain log is read back only by its rebuild.
# The portal's signings are projected once tasks accepted them (task.action_completed carries each), so a
# signing tasks refused shows as refused (signing.rejected), never as proof.
PROJECTED = tuple(c for c in messages(kinds=(Kind.EVENT, Kind.INTERNAL), topics=EVENT_TOPICS) if c not in SUBMITTED)


def consumers(timeline: Timeline, staff_keys: StaffKeys) -> list[Consumer]:
    return [
        Consumer(
            group=Groups.TIMELINE, topics=EVENT_TOPICS,
            description="Projects every event into the staff and portal timelines of its task.",
            handlers=dict.fromkeys(PROJECTED, timeline.project),
        ),
        staff_keys.projection("timeline"),
    ]
