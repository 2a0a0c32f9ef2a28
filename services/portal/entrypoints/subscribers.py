"""Topic → handler registration for the portal, in one place."""

from __future__ import annotations

from contracts.topics import DOCUMENTS_EVENTS, SIGNING_EVENTS, TASKS_EVENTS, Groups
from services.portal.handlers.read_model import ReadModel
from services.runtime.consumer import Consumer


def consumers(read_model: ReadModel) -> list[Consumer]:
    return [
        Consumer(group=Groups.PORTAL, topics=(TASKS_EVENTS, DOCUMENTS_EVENTS, SIGNING_EVENTS),
                 handlers=read_model.handlers(),
                 description="Keeps each contact's tasks, open actions and signed artefacts (the portal's read "
                             "model) from tasks, documents and signing."),
    ]
