"""Which messages tasks consumes, and the handler for each: in one visible place."""

from __future__ import annotations

from contracts import messages as m
from contracts.topics import Groups
from services.runtime.consumer import Consumer
from services.runtime.registry import Handlers
from services.runtime.service import handlers
from services.tasks.handlers import events
from services.tasks.unit_of_work import UnitOfWork

HANDLERS = (
    Handlers[UnitOfWork]()
    .on(m.ChangeTaskPhase, events.change_phase_for_rule)
    .on(m.RequestTaskAction, events.request_action_for_rule)
    .on(m.TaskSigned, events.complete_signed_action)
    .on(m.DocumentSigned, events.complete_signed_action)
    .on(m.ActionDeclined, events.decline_action)
    .on(m.DocumentUploaded, events.record_document_version)
    .on(m.DocumentVersionAdded, events.record_document_version)
)


def consumers(uow: UnitOfWork) -> list[Consumer]:
    return [
        Consumer(
            group=Groups.TASKS,
            topics=m.topics_of(HANDLERS),
            description="Applies rule commands (compare-and-set phase changes, requests for another action), "
            "completes or declines actions from the portal's signatures, and keeps the current version "
            "of each document.",
            handlers=handlers(uow, HANDLERS),
        )
    ]
