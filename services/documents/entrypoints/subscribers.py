"""Every topic this service listens to, and the handler for each message type."""

from __future__ import annotations

from contracts.messages import DocumentSigned
from contracts.topics import PORTAL_EVENTS, Groups
from services.documents.handlers import DocumentHandlers
from services.runtime.consumer import Consumer


def consumers(handlers: DocumentHandlers, staff_keys_projection: Consumer) -> list[Consumer]:
    return [
        staff_keys_projection,
        Consumer(group=Groups.DOCUMENTS, topics=(PORTAL_EVENTS,),
                 description="Stamps each document.signed onto its document and emits document.stamped.",
                 handlers={DocumentSigned: handlers.stamp_signed_document}),
    ]
