"""Which messages tasks consumes, and the handler for each: in one visible place."""

from __future__ import annotations

from functools import partial

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
            "task.change_phase": partial(events.change_phase_for_rule, deps),
            "task.request_action": partial(events.request_action_for_rule, deps),
            "task.signed": partial(events.complete_signed_action, deps),
            "document.signed": partial(events.complete_signed_action, deps),
            "action.declined": partial(events.decline_action, deps),
            "document.uploaded": partial(events.record_document_version, deps),
            "document.version_added": partial(events.record_document_version, deps),
        },
    )]
