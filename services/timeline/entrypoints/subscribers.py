"""Topic -> handler registration for the timeline, in one visible place."""

from __future__ import annotations

from contracts.messages import KNOWN_TYPES
from contracts.topics import EVENT_TOPICS, Groups
from services.runtime.consumer import Consumer
from services.runtime.staff_auth import StaffKeys
from services.timeline.handlers import Timeline

COMMAND_TYPES = frozenset({"task.change_phase", "task.request_action"})
# Timeline's own log of where it placed each entry: read back by a rebuild, never projected.
OWN_TYPES = frozenset({"timeline.entry_appended"})


def consumers(timeline: Timeline, staff_keys: StaffKeys) -> list[Consumer]:
    return [
        Consumer(
            group=Groups.TIMELINE, topics=EVENT_TOPICS,
            description="Projects every event into the staff and portal timelines of its task.",
            handlers={t: timeline.project for t in sorted(KNOWN_TYPES - COMMAND_TYPES - OWN_TYPES)},
        ),
        staff_keys.projection("timeline"),
    ]
