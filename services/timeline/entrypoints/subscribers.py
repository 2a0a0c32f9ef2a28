"""Topic -> handler registration for the timeline, in one visible place."""

from __future__ import annotations

from contracts.messages import Kind, messages
from contracts.topics import EVENT_TOPICS, Groups
from services.runtime.acceptance import SUBMITTED
from services.runtime.consumer import Consumer
from services.runtime.registry import Handlers
from services.runtime.service import handlers
from services.timeline.handlers import project
from services.timeline.unit_of_work import UnitOfWork

# Every fact on the event topics (tenant and key events too: they carry no task, so they add no entry);
# commands are not facts, and timeline's own chain log is read back only by its rebuild.
# The portal's signings and declines are projected once tasks accepted them (task.action_completed /
# task.action_declined carries each), so one tasks refused shows as refused (signing.rejected /
# decline.rejected), never as proof or a decline.
PROJECTED = tuple(c for c in messages(kinds=(Kind.EVENT, Kind.INTERNAL), topics=EVENT_TOPICS) if c not in SUBMITTED)
HANDLERS = Handlers[UnitOfWork]().on_each(PROJECTED, project)


def consumers(uow: UnitOfWork) -> list[Consumer]:
    return [
        Consumer(
            group=Groups.TIMELINE,
            topics=EVENT_TOPICS,
            description="Projects every event into the staff and portal timelines of its task.",
            handlers=handlers(uow, HANDLERS),
        ),
        uow.staff_keys.projection("timeline"),
    ]
