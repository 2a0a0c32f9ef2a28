"""Every topic this service listens to, and the handler for each message type."""

from __future__ import annotations

from contracts.messages import DocumentSigned, DocumentStamped, TaskSigned
from contracts.topics import DOCUMENTS_EVENTS, TASKS_EVENTS, Groups
from services.runtime.acceptance import on_acceptance
from services.runtime.consumer import Consumer
from services.signing.handlers import SigningHandlers

# Certificates are built by a group of their own, so a portal that is slow to serve a signature image
# delays (or dead-letters) the certificate only, never the evidence record.
CERTIFICATES_GROUP = f"{Groups.SIGNING}.certificates"


def consumers(handlers: SigningHandlers, staff_keys_projection: Consumer) -> list[Consumer]:
    return [
        staff_keys_projection,
        Consumer(group=Groups.SIGNING, topics=(TASKS_EVENTS, DOCUMENTS_EVENTS),
                 description="Records the evidence of every signing tasks accepted; seals each stamped document.",
                 handlers={**on_acceptance({TaskSigned: handlers.record_evidence,
                                            DocumentSigned: handlers.record_evidence}),
                           DocumentStamped: handlers.seal_stamped_document}),
        Consumer(group=CERTIFICATES_GROUP, topics=(TASKS_EVENTS,),
                 description="Builds and seals the approval certificate of every signed task tasks accepted.",
                 handlers=on_acceptance({TaskSigned: handlers.seal_approval_certificate})),
    ]
