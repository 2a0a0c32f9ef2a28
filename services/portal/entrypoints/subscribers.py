"""Topic → handler registration for the portal, in one place."""

from __future__ import annotations

from contracts.topics import TASKS_EVENTS, Groups
from services.portal.handlers.read_model import ReadModel
from services.runtime.consumer import Consumer


def consumers(read_model: ReadModel) -> list[Consumer]:
    return [
        Consumer(group=Groups.PORTAL, topics=(TASKS_EVENTS,), handlers=read_model.handlers(),
                 description="Keeps each contact's tasks and open actions (the portal's read model) from tasks."),
    ]
