"""Topic → handler registration for the portal, in one place."""

from __future__ import annotations

from contracts import messages as m
from contracts.topics import Groups
from services.portal.handlers import read_model as rm
from services.portal.unit_of_work import UnitOfWork
from services.runtime.consumer import Consumer
from services.runtime.registry import Handlers
from services.runtime.service import handlers

HANDLERS = (
    Handlers[UnitOfWork]()
    .on(m.TenantRegistered, rm.on_tenant_registered)
    .on(m.TenantTimeZoneChanged, rm.on_tenant_registered)
    .on(m.TenantBrandingChanged, rm.on_branding_changed)
    .on(m.ContactRegistered, rm.on_contact)
    .on(m.ContactUpdated, rm.on_contact)
    .on(m.TaskCreated, rm.on_task)
    .on(m.TaskUpdated, rm.on_task)
    .on(m.TaskPhaseChanged, rm.on_phase_changed)
    .on(m.TaskActionRequested, rm.on_action_requested)
    .on(m.TaskActionCancelled, rm.on_action_closed)
    .on(m.TaskActionCompleted, rm.on_action_closed)
    .on(m.ActionExpired, rm.on_action_closed)
    .on(m.TaskActionDeclined, rm.on_action_closed)
    .on(m.DocumentStamped, rm.on_document_stamped)
    .on(m.SignatureSealed, rm.on_signature_sealed)
    .on(m.SigningRejected, rm.on_submission_rejected)
    .on(m.DeclineRejected, rm.on_submission_rejected)
)


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
