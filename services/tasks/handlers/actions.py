"""Signature requests on a task: request, read and cancel them."""

from __future__ import annotations

import asyncio
import time
from datetime import datetime

from contracts import new_id
from contracts.errors import Invalid, NotFound
from contracts.messages import ActionRefPayload, ActionRequestedPayload, TaskActionCancelled, TaskActionRequested
from contracts.models import ActionKind, FieldSpec
from contracts.topics import TASKS_EVENTS
from services.runtime.mongo import Session
from services.runtime.staff_auth import Staff
from services.tasks.adapters.idempotency import IdempotencyKey
from services.tasks.domain import Action, ActionNotOpen, DocumentVersion, request_action, require_signing
from services.tasks.handlers.unit_of_work import Deps, commit, now, staff_actor, to_millis
from services.tasks.handlers.views import action_view


async def _document(deps: Deps, tenant_id: str, document_id: str) -> DocumentVersion:
    """The document's current version, from documents' events. A document uploaded a moment ago may
    not have reached this projection yet, so wait a little before calling it unknown."""
    deadline = time.monotonic() + deps.settings.document_wait_seconds
    while (found := await deps.store.find_document(tenant_id, document_id)) is None:
        if time.monotonic() >= deadline:
            raise Invalid(f"document {document_id} not found in this tenant",
                          errors=[{"field": "document_id", "message": "unknown document"}])
        await asyncio.sleep(0.2)
    return found


async def request_signature(deps: Deps, staff: Staff, task_id: str, *, contact_id: str, kind: ActionKind,
                            fields: list[FieldSpec], document_id: str | None, message: str | None,
                            expires_at: datetime | None, remind_at: list[datetime] = (),
                            idem: IdempotencyKey | None = None) -> dict:
    """Ask a contact to sign the task (or a document); the portal shows it from task.action_requested."""
    require_signing(staff.plan)
    document = await _document(deps, staff.tenant_id, document_id) if document_id else None

    async def work(session: Session) -> dict:
        task = await deps.store.get_task(staff.tenant_id, task_id, session)
        contact = await deps.store.get_contact(staff.tenant_id, contact_id, session)
        action = request_action(action_id=new_id(), task=task, contact=contact, kind=kind, fields=fields,
                                document=document, message=message, plan=staff.plan, now=now(),
                                expires_at=to_millis(expires_at) if expires_at else None,
                                remind_at=[to_millis(when) for when in remind_at])
        await deps.store.insert_action(action, session)
        await deps.outbox.add(session, TASKS_EVENTS, TaskActionRequested(
            tenant_id=task.tenant_id, task_id=task.id, actor=staff_actor(staff),
            payload=ActionRequestedPayload(action=action.snapshot(), task=task.snapshot(), contact=contact.ref())))
        return action_view(action)

    return await commit(deps, work, idem)


async def close(deps: Deps, session: Session, action: Action) -> None:
    """Persist a transition out of `open`; a concurrent transition that won first makes this one a conflict."""
    if not await deps.store.close_action(action, session):
        raise ActionNotOpen(f"action {action.id} is no longer open")


async def cancel_action(deps: Deps, staff: Staff, task_id: str, action_id: str, reason: str | None) -> dict:
    async def work(session: Session) -> dict:
        action = await deps.store.get_action(staff.tenant_id, action_id, session)
        if action.task_id != task_id:
            raise NotFound(f"action {action_id} not found on task {task_id}")
        action.cancel(reason, now())
        await close(deps, session, action)
        await deps.outbox.add(session, TASKS_EVENTS, TaskActionCancelled(
            tenant_id=action.tenant_id, task_id=action.task_id, actor=staff_actor(staff),
            payload=ActionRefPayload(action_id=action.id, contact_id=action.contact_id, reason=reason)))
        return action_view(action)

    return await commit(deps, work)


async def get_action(deps: Deps, staff: Staff, task_id: str, action_id: str) -> dict:
    action = await deps.store.get_action(staff.tenant_id, action_id)
    if action.task_id != task_id:
        raise NotFound(f"action {action_id} not found on task {task_id}")
    return action_view(action)
