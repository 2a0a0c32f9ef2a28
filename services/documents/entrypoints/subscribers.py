"""Every topic this service listens to, and the handler for each message type."""

from __future__ import annotations

from contracts.messages import DocumentSigned, topics_of
from contracts.topics import Groups
from services.documents import handlers as h
from services.documents.unit_of_work import UnitOfWork
from services.runtime.acceptance import on_acceptance
from services.runtime.consumer import Consumer
from services.runtime.registry import Handlers
from services.runtime.service import handlers

# Signings, handled once tasks accepted them (task.action_completed carries each).
ACCEPTED = Handlers[UnitOfWork]().on(DocumentSigned, h.stamp_signed_document)


def consumers(uow: UnitOfWork) -> list[Consumer]:
    stamping = on_acceptance(handlers(uow, ACCEPTED))
    return [
        uow.staff_keys.projection("documents"),
        Consumer(
            group=Groups.DOCUMENTS,
            topics=topics_of(stamping),
            description="Stamps each document.signed tasks accepted onto its document; emits document.stamped.",
            handlers=stamping,
        ),
    ]
