"""Signature requests on a task: request, read, cancel and replace them."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from contracts import new_id
from contracts.errors import Invalid, NotFound
from contracts.messages import ActionRefPayload, ActionRequestedPayload, TaskActionCancelled, TaskActionRequested
from contracts.models import ActionKind, FieldSpec, Language
from contracts.topics import TASKS_EVENTS
from services.runtime.mongo import Session
from services.runtime.staff_auth import Staff
from services.tasks.adapters.idempotency import IdempotencyKey
from services.tasks.domain import Action, ActionNotOpen, DocumentVersion, request_action, require_signing
from services.tasks.handlers.views import action_view
from services.tasks.unit_of_work import UnitOfWork, commit, now, staff_actor, to_millis


@dataclass
class SignatureRequest:
    """The command: ask `contact_id` to sign the task (or a document)."""

    contact_id: str
    kind: ActionKind
    fields: list[FieldSpec] = field(default_factory=list)
    document_id: str | None = None
    message: str | None = None
    expires_at: datetime | None = None
    remind_at: list[datetime] = field(default_factory=list)
    notify: bool = True
    language: Language | None = None


async def _document(uow: UnitOfWork, tenant_id: str, document_id: str) -> DocumentVersion:
    """The document's current version, from documents' events. A document uploaded a moment ago may
    not have reached this projection yet, so wait a little before calling it unknown."""
    deadline = time.monotonic() + uow.settings.document_wait_seconds
    while (found := await uow.store.find_document(tenant_id, document_id)) is None:
        if time.monotonic() >= deadline:
            raise Invalid(
                f"document {document_id} not found in this tenant",
                errors=[{"field": "document_id", "message": "unknown document"}],
            )
        await asyncio.sleep(0.2)
    return found


async def open_action(
    uow: UnitOfWork,
    session: Session,
    *,
    tenant_id: str,
    plan: str,
    task_id: str,
    request: SignatureRequest,
    document: DocumentVersion | None,
    action_id: str,
    envelope: dict[str, Any],
    rule_id: str | None = None,
    rule_name: str | None = None,
) -> Action:
    """The one way an action is requested, by staff or by a rule's command: validate, store, stage
    task.action_requested. Everything is checked before anything is written."""
    task = await uow.store.get_task(tenant_id, task_id, session)
    contact = await uow.store.get_contact(tenant_id, request.contact_id, session)
    action = request_action(
        action_id=action_id,
        task=task,
        contact=contact,
        kind=request.kind,
        fields=request.fields,
        document=document,
        message=request.message,
        plan=plan,
        now=now(),
        expires_at=to_millis(request.expires_at) if request.expires_at else None,
        remind_at=[to_millis(when) for when in request.remind_at],
        notify=request.notify,
        language=request.language,
    )
    await uow.store.insert_action(action, session)
    await uow.outbox.add(
        session,
        TASKS_EVENTS,
        TaskActionRequested(
            **{**envelope, "tenant_id": task.tenant_id, "task_id": task.id},
            payload=ActionRequestedPayload(
                action=action.snapshot(),
                task=task.snapshot(),
                contact=contact.ref(),
                rule_id=rule_id,
                rule_name=rule_name,
            ),
        ),
    )
    return action


async def _open(
    uow: UnitOfWork,
    session: Session,
    staff: Staff,
    task_id: str,
    request: SignatureRequest,
    document: DocumentVersion | None,
    action_id: str | None = None,
) -> Action:
    return await open_action(
        uow,
        session,
        tenant_id=staff.tenant_id,
        plan=staff.plan,
        task_id=task_id,
        request=request,
        document=document,
        action_id=action_id or new_id(),
        envelope={"actor": staff_actor(staff)},
    )


async def _cancel(
    uow: UnitOfWork, session: Session, staff: Staff, task_id: str, action_id: str, reason: str | None
) -> Action:
    action = await uow.store.get_action(staff.tenant_id, action_id, session)
    if action.task_id != task_id:
        raise NotFound(f"action {action_id} not found on task {task_id}")
    action.cancel(reason, now())
    await close(uow, session, action)
    await uow.outbox.add(
        session,
        TASKS_EVENTS,
        TaskActionCancelled(
            tenant_id=action.tenant_id,
            task_id=action.task_id,
            actor=staff_actor(staff),
            payload=ActionRefPayload(action_id=action.id, contact_id=action.contact_id, reason=reason),
        ),
    )
    return action


async def close(uow: UnitOfWork, session: Session, action: Action) -> None:
    """Persist a transition out of `open`; a concurrent transition that won first makes this one a conflict."""
    if not await uow.store.close_action(action, session):
        raise ActionNotOpen(f"action {action.id} is no longer open")


async def request_signature(
    uow: UnitOfWork, staff: Staff, task_id: str, request: SignatureRequest, idem: IdempotencyKey | None = None
) -> dict:
    """Ask a contact to sign; the portal shows it from task.action_requested."""
    require_signing(staff.plan)
    document = await _document(uow, staff.tenant_id, request.document_id) if request.document_id else None

    async def work(session: Session) -> dict:
        return action_view(await _open(uow, session, staff, task_id, request, document))

    return await commit(uow, work, idem)


async def cancel_action(uow: UnitOfWork, staff: Staff, task_id: str, action_id: str, reason: str | None) -> dict:
    async def work(session: Session) -> dict:
        return action_view(await _cancel(uow, session, staff, task_id, action_id, reason))

    return await commit(uow, work)


async def replace_action(
    uow: UnitOfWork,
    staff: Staff,
    task_id: str,
    action_id: str,
    request: SignatureRequest,
    idem: IdempotencyKey | None = None,
) -> dict:
    """Cancel an open action and request its successor in one step: the portal never shows both."""
    require_signing(staff.plan)
    document = await _document(uow, staff.tenant_id, request.document_id) if request.document_id else None

    async def work(session: Session) -> dict:
        successor_id = new_id()  # named in the cancellation, so the timeline can link the two
        await _cancel(uow, session, staff, task_id, action_id, f"replaced by {successor_id}")
        successor = await _open(uow, session, staff, task_id, request, document, successor_id)
        return action_view(successor) | {"replaces": action_id}

    return await commit(uow, work, idem)


async def get_action(uow: UnitOfWork, staff: Staff, task_id: str, action_id: str) -> dict:
    action = await uow.store.get_action(staff.tenant_id, action_id)
    if action.task_id != task_id:
        raise NotFound(f"action {action_id} not found on task {task_id}")
    return action_view(action)
