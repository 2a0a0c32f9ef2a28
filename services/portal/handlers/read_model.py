"""Projects tasks.events (and the signed artefacts from documents/signing) into the portal's read model, scoped by tenant and contact.

Each handler runs inside the consumer's tracking transaction, so a redelivered event is a no-op.
"""

from __future__ import annotations

from contracts.messages import (
    ActionExpired,
    ContactRegistered,
    ContactUpdated,
    DeclineRejected,
    DocumentStamped,
    SignatureSealed,
    SigningRejected,
    TaskActionCancelled,
    TaskActionCompleted,
    TaskActionDeclined,
    TaskActionRequested,
    TaskCreated,
    TaskPhaseChanged,
    TaskUpdated,
    TenantBrandingChanged,
    TenantRegistered,
    TenantTimeZoneChanged,
)
from services.portal.unit_of_work import UnitOfWork


async def on_contact(event: ContactRegistered | ContactUpdated, uow: UnitOfWork) -> None:
    contact = {
        **event.payload.contact.model_dump(mode="json"),
        "archived": event.payload.archived,
        "link_generation": event.payload.link_generation,
    }
    await uow.store.upsert_contact(event.tenant_id, contact, uow.tx)


async def on_task(event: TaskCreated | TaskUpdated, uow: UnitOfWork) -> None:
    await uow.store.upsert_task(event.tenant_id, event.payload.task.model_dump(mode="json"), uow.tx)


async def on_phase_changed(event: TaskPhaseChanged, uow: UnitOfWork) -> None:
    if event.task_id:
        await uow.store.set_task_phase(event.tenant_id, event.task_id, event.payload.to_phase, uow.tx)


async def on_action_requested(event: TaskActionRequested, uow: UnitOfWork) -> None:
    p = event.payload
    await uow.store.upsert_contact(event.tenant_id, p.contact.model_dump(mode="json"), uow.tx)
    await uow.store.upsert_task(event.tenant_id, p.task.model_dump(mode="json"), uow.tx)
    action = p.action.model_dump()  # datetimes stay datetimes for expiry checks
    await uow.store.add_action(
        {
            **action,
            "fields": [f.model_dump() for f in p.action.fields],
            "tenant_id": event.tenant_id,
            "task_id": p.task.task_id,
            "status": "open",
            "requested_at": event.occurred_at,
            "requested_event_id": event.event_id,
            "correlation_id": event.correlation_id,
            "causation_depth": event.causation_depth,
        },
        uow.tx,
    )


async def on_action_closed(
    event: TaskActionCancelled | ActionExpired | TaskActionCompleted | TaskActionDeclined, uow: UnitOfWork
) -> None:
    status = {
        TaskActionCancelled: "cancelled",
        ActionExpired: "expired",
        TaskActionCompleted: "completed",
        TaskActionDeclined: "declined",
    }[type(event)]
    # The portal may have closed it already (signed here); tasks' word does not reopen or change that.
    await uow.store.close_action(event.tenant_id, event.payload.action_id, status, event.occurred_at, uow.tx)


async def on_document_stamped(event: DocumentStamped, uow: UnitOfWork) -> None:
    p = event.payload
    await uow.store.set_artefact(event.tenant_id, p.action_id, "signed_page", p.preview_url, uow.tx)
    await uow.store.set_artefact(event.tenant_id, p.action_id, "signed_document", p.pdf_url, uow.tx)


async def on_signature_sealed(event: SignatureSealed, uow: UnitOfWork) -> None:
    p = event.payload
    await uow.store.set_artefact(event.tenant_id, p.action_id, p.kind, p.pdf_url, uow.tx)


async def on_submission_rejected(event: SigningRejected | DeclineRejected, uow: UnitOfWork) -> None:
    """tasks refused a signing or decline this portal took (the action was closed meanwhile): the contact sees
    that it was not accepted, and why, instead of a signed or declined action."""
    p = event.payload
    submission = "signing" if isinstance(event, SigningRejected) else "decline"
    await uow.store.reject_submission(
        event.tenant_id, p.action_id, p.action_status, submission, event.occurred_at, uow.tx
    )


async def on_tenant_registered(event: TenantRegistered | TenantTimeZoneChanged, uow: UnitOfWork) -> None:
    """The tenant's time zone, in which its contacts' pages show times (deadlines, the timeline, signings)."""
    await uow.store.set_time_zone(event.tenant_id, event.payload.time_zone, uow.tx)


async def on_branding_changed(event: TenantBrandingChanged, uow: UnitOfWork) -> None:
    """The tenant's name, colour and logo for its contacts' pages; each change carries the whole branding."""
    p = event.payload
    await uow.store.set_brand(
        event.tenant_id,
        {"name": p.name, "colour": p.colour, "logo_url": p.logo_url, "logo_digest": p.logo_digest},
        uow.tx,
    )
