"""Every topic this service listens to, and the handler for each message type."""

from __future__ import annotations

from contracts.messages import DocumentSigned, DocumentStamped, TaskSigned, topics_of
from contracts.topics import Groups
from services.runtime.acceptance import on_acceptance
from services.runtime.consumer import Consumer
from services.runtime.registry import Handlers
from services.runtime.service import handlers
from services.signing import handlers as h
from services.signing.unit_of_work import UnitOfWork

# Certificates are built by a group of their own, so a portal that is slow to serve a signature image
# delays (or dead-letters) the certificate only, never the evidence record.
CERTIFICATES_GROUP = f"{Groups.SIGNING}.certificates"

# Signings are handled once tasks accepted them (task.action_completed carries each).
EVIDENCE_ACCEPTED = Handlers[UnitOfWork]().on(TaskSigned, h.record_evidence).on(DocumentSigned, h.record_evidence)
EVIDENCE = Handlers[UnitOfWork]().on(DocumentStamped, h.seal_stamped_document)
CERTIFICATES_ACCEPTED = Handlers[UnitOfWork]().on(TaskSigned, h.seal_approval_certificate)


def consumers(uow: UnitOfWork) -> list[Consumer]:
    evidence = on_acceptance(handlers(uow, EVIDENCE_ACCEPTED)) | handlers(uow, EVIDENCE)
    certificates = on_acceptance(handlers(uow, CERTIFICATES_ACCEPTED))
    return [
        uow.staff_keys.projection("signing"),
        Consumer(
            group=Groups.SIGNING,
            topics=topics_of(evidence),
            description="Records the evidence of every signing tasks accepted; seals each stamped document.",
            handlers=evidence,
        ),
        Consumer(
            group=CERTIFICATES_GROUP,
            topics=topics_of(certificates),
            description="Builds and seals the approval certificate of every signed task tasks accepted.",
            handlers=certificates,
        ),
    ]
