"""Projects tasks.events (and the signed artefacts from documents/signing) into the portal's read model, scoped by tenant and contact.

Each handler runs inside the consumer's tracking transaction, so a redelivered event is a no-op.
"""

from __future__ import annotations

from contracts import Envelope
from contracts.messages import (
    ActionExpired,
    ContactRegistered,
    ContactUpdated,
    DocumentStamped,
    SignatureSealed,
    SigningRejected,
    TaskActionCancelled,
    TaskActionCompleted,
    TaskActionRequested,
    TaskCreated,
    TaskPhaseChanged,
    TaskUpdated,
)
from services.portal.adapters.mongo import PortalStore
from services.runtime.mongo import Session


class ReadModel:
    def __init__(self, store: PortalStore):
        self.store = store

    async def on_contact(self, event: Envelope, session: Session) -> None:
        assert isinstance(event, (ContactRegistered, ContactUpdated))
        contact = {**event.payload.contact.model_dump(mode="json"), "archived": event.payload.archived,
                   "link_generation": event.payload.link_generation}
        await self.store.upsert_contact(event.tenant_id, contact, session)

    async def on_task(self, event: Envelope, session: Session) -> None:
        assert isinstance(event, (TaskCreated, TaskUpdated))
        await self.store.upsert_task(event.tenant_id, event.payload.task.model_dump(mode="json"), session)

    async def on_phase_changed(self, event: Envelope, session: Session) -> None:
        assert isinstance(event, TaskPhaseChanged)
        if event.task_id:
            await self.store.set_task_phase(event.tenant_id, event.task_id, event.payload.to_phase, session)

    async def on_action_requested(self, event: Envelope, session: Session) -> None:
        assert isinstance(event, TaskActionRequested)
        p = event.payload
        await self.store.upsert_contact(event.tenant_id, p.contact.model_dump(mode="json"), session)
        await self.store.upsert_task(event.tenant_id, p.task.model_dump(mode="json"), session)
        action = p.action.model_dump()  # datetimes stay datetimes for expiry checks
        await self.store.add_action({
            **action,
            "fields": [f.model_dump() for f in p.action.fields],
            "tenant_id": event.tenant_id,
            "task_id": p.task.task_id,
            "status": "open",
            "requested_at": event.occurred_at,
            "requested_event_id": event.event_id,
            "correlation_id": event.correlation_id,
            "causation_depth": event.causation_depth,
        }, session)

    async def on_action_closed(self, event: Envelope, session: Session) -> None:
        status = {TaskActionCancelled: "cancelled", ActionExpired: "expired",
                  TaskActionCompleted: "completed"}[type(event)]
        # The portal may have closed it already (signed here); tasks' word does not reopen or change that.
        await self.store.close_action(event.tenant_id, event.payload.action_id, status, event.occurred_at, session)

    async def on_signing_rejected(self, event: Envelope, session: Session) -> None:
        """tasks refused a signing this portal took (the action was closed meanwhile): the contact sees that it
        was not accepted, and why, instead of a signed action."""
        assert isinstance(event, SigningRejected)
        p = event.payload
        await self.store.reject_signing(event.tenant_id, p.action_id, p.action_status, event.occurred_at, session)

    async def on_document_stamped(self, event: Envelope, session: Session) -> None:
        assert isinstance(event, DocumentStamped)
        p = event.payload
        await self.store.set_artefact(event.tenant_id, p.action_id, "signed_page", p.preview_url, session)
        await self.store.set_artefact(event.tenant_id, p.action_id, "signed_document", p.pdf_url, session)

    async def on_signature_sealed(self, event: Envelope, session: Session) -> None:
        assert isinstance(event, SignatureSealed)
        p = event.payload
        await self.store.set_artefact(event.tenant_id, p.action_id, p.kind, p.pdf_url, session)

    def handlers(self) -> dict:
        return {
            ContactRegistered: self.on_contact,
            ContactUpdated: self.on_contact,
            TaskCreated: self.on_task,
            TaskUpdated: self.on_task,
            TaskPhaseChanged: self.on_phase_changed,
            TaskActionRequested: self.on_action_requested,
            TaskActionCancelled: self.on_action_closed,
            TaskActionCompleted: self.on_action_closed,
            ActionExpired: self.on_action_closed,
            SigningRejected: self.on_signing_rejected,
            DocumentStamped: self.on_document_stamped,
            SignatureSealed: self.on_signature_sealed,
        }
