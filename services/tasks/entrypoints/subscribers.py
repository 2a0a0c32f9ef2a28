"""Which messages tasks consumes, and the handler for each: in one visible place."""

from __future__ import annotations

from functools import partial

from contracts import messages as m
from contracts.topics import DOCUMENTS_EVENTS, PORTAL_EVENTS, TASKS_COMMANDS, Groups
from services.runtime.consumer import Consumer
from services.tasks.handlers import events
from services.tasks.handlers.unit_of_work import Deps


def consumers(deps: Deps) -> list[Consumer]:
    return [Consumer(
        group=Groups.TASKS, topics=(TASKS_COMMANDS, PORTAL_EVENTS, DOCUMENTS_EVENTS),
        description="Applies rule commands (compare-and-set phase changes, requests for another action), "
                    "completes or declines actions from the portal's signatures, and keeps the current version "
                    "of each document.",
        handlers={
            m.ChangeTaskPhase: partial(events.change_phase_for_rule, deps),
            m.RequestTaskAction: partial(events.request_action_for_rule, deps),
            m.TaskSigned: partial(events.complete_signed_action, deps),
            m.DocumentSigned: partial(events.complete_signed_action, deps),
            m.ActionDeclined: partial(events.decline_action, deps),
            m.DocumentUploaded: partial(events.record_document_version, deps),
            m.DocumentVersionAdded: partial(events.record_document_version, deps),
        },
    )]
