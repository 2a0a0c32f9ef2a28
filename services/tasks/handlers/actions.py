"""Signature requests on a task: request, cancel, and expire the overdue ones."""

from __future__ import annotations

import asyncio
import logging
import time
from datetime import datetime

from contracts import new_id, utcnow
from contracts.errors import Conflict, Invalid, NotFound
from contracts.messages import (
    ActionExpired, ActionRefPayload, ActionRequestedPayload, TaskActionCancelled, TaskActionRequested,
)
from contracts.models import ActionKind, FieldSpec
from contracts.topics import TASKS_EVENTS
from services.runtime.mongo import Session
from services.runtime.staff_auth import Staff
from services.tasks.adapters.idempotency import IdempotencyKey
from services.tasks.domain import Action, ActionNotOpen, DocumentVersion, request_action, require_signing
from services.tasks.handlers.unit_of_work import Deps, commit, staff_actor
from services.tasks.handlers.views import action_view

log = logging.getLogger(__name__)


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
                            expires_at: datetime | None, idem: IdempotencyKey | None = None) -> dict:
    """Ask a contact to sign the task (or a document); the portal shows it from task.action_requested."""
    require_signing(staff.plan)
    document = await _document(deps, staff.tenant_id, document_id) if document_id else None

    async def work(session: Session) -> dict:
        task = await deps.store.get_task(staff.tenant_id, task_id, session)
        contact = await deps.store.get_contact(staff.tenant_id, contact_id, session)
        action = request_action(action_id=new_id(), task=task, contact=contact, kind=kind, fields=fields,
                                document=document, message=message, expires_at=expires_at, plan=staff.plan,
                                now=utcnow())
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
        action.cancel(reason, utcnow())
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


async def expire_overdue(deps: Deps, now: datetime | None = None) -> int:
    """Expire every open action past its expires_at. Safe with several replicas: the write is conditional
    on the action still being open, so exactly one replica expires it and emits action.expired."""
    now = now or utcnow()
    expired = 0
    for action in await deps.store.overdue_actions(now):
        async def work(session: Session, action: Action = action) -> None:
            action.expire(now)
            await close(deps, session, action)
            await deps.outbox.add(session, TASKS_EVENTS, ActionExpired(
                tenant_id=action.tenant_id, task_id=action.task_id,
                payload=ActionRefPayload(action_id=action.id, contact_id=action.contact_id, reason="expired")))

        try:
            await commit(deps, work)
            expired += 1
        except Conflict:
            continue  # another replica, a signature or a cancellation got there first
    return expired


async def run_expiry(deps: Deps) -> None:
    """The background job: look for overdue actions every few seconds."""
    while True:
        try:
            if count := await expire_overdue(deps):
                log.info("expired %d overdue action(s)", count)
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("expiry pass failed; trying again next interval")
        await asyncio.sleep(deps.settings.expiry_interval_seconds)


