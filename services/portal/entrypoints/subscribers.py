"""Topic → handler registration for the portal, in one place."""

from __future__ import annotations

from contracts import Envelope
from contracts import messages as m
from contracts.topics import Groups
from services.portal.handlers import read_model as rm
from services.portal.unit_of_work import UnitOfWork
from services.runtime.consumer import Consumer
from services.runtime.service import MessageHandler, handlers

HANDLERS: dict[type[Envelope], MessageHandler[UnitOfWork]] = {
    m.TenantRegistered: rm.on_tenant_registered,
    m.TenantTimeZoneChanged: rm.on_tenant_registered,
    m.TenantBrandingChanged: rm.on_branding_changed,
    m.ContactRegistered: rm.on_contact,
    m.ContactUpdated: rm.on_contact,
    m.TaskCreated: rm.on_task,
    m.TaskUpdated: rm.on_task,
    m.TaskPhaseChanged: rm.on_phase_changed,
    m.TaskActionRequested: rm.on_action_requested,
    m.TaskActionCancelled: rm.on_action_closed,
    m.TaskActionCompleted: rm.on_action_closed,
    m.ActionExpired: rm.on_action_closed,
    m.TaskActionDeclined: rm.on_action_closed,
    m.DocumentStamped: rm.on_document_stamped,
    m.SignatureSealed: rm.on_signature_sealed,
    m.SigningRejected: rm.on_submission_rejected,
    m.DeclineRejected: rm.on_submission_rejected,
}


def consumers(uow: UnitOfWork) -> list[Consumer]:
    return [
        Consumer(
            group=Groups.PORTAL,
            topics=m.topics_of(HANDLERS),
            handlers=handlers(uow, HANDLERS),
            description="Keeps each contact's tasks, open actions and signed artefacts (the portal's read "
            "model) and the tenant's branding and time zone from tasks, documents and signing.",
        ),
    ]
