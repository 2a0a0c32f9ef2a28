"""Every topic this service listens to, and the handler for each message type."""

from __future__ import annotations

from contracts.messages import DocumentSigned
from contracts.topics import TASKS_EVENTS, Groups
from services.documents.handlers import DocumentHandlers
from services.runtime.acceptance import on_acceptance
from services.runtime.consumer import Consumer


def consumers(handlers: DocumentHandlers, staff_keys_projection: Consumer) -> list[Consumer]:
    return [
        staff_keys_projection,
        Consumer(group=Groups.DOCUMENTS, topics=(TASKS_EVENTS,),
                 description="Stamps each document.signed tasks accepted onto its document; emits document.stamped.",
                 handlers=on_acceptance({DocumentSigned: handlers.stamp_signed_document})),
    ]
