"""Reactions to other services' messages: rule commands, signatures and declines, document versions."""

from __future__ import annotations

import logging
import uuid
from datetime import timedelta
from typing import Any

from contracts import Actor, Envelope
from contracts.errors import Conflict, Forbidden, Invalid, NotFound, PermanentFailure
from contracts.messages import (
    ActionCompletedPayload,
    ActionDeclined,
    ChangeTaskPhase,
    DeclineRejected,
    DeclineRejectedPayload,
    DocumentSigned,
    DocumentUploaded,
    DocumentVersionAdded,
    RequestTaskAction,
    SigningRejected,
    SigningRejectedPayload,
    TaskActionCompleted,
    TaskActionDeclined,
    TaskActionDeclinedPayload,
    TaskSigned,
)
from contracts.topics import TASKS_EVENTS
from services.tasks.domain import Action, ActionNotOpen, DocumentVersion
from services.tasks.handlers.actions import SignatureRequest, close, open_action
from services.tasks.handlers.tasks import apply_phase_change
from services.tasks.unit_of_work import UnitOfWork, now

log = logging.getLogger(__name__)


async def change_phase_for_rule(event: ChangeTaskPhase, uow: UnitOfWork) -> None:
    """task.change_phase: compare-and-set on the expected phase; a stale command is recorded, not applied."""
    p = event.payload
    try:
        task = await uow.store.get_task(event.tenant_id, event.task_id or "", uow.tx)
    except NotFound as exc:
        raise PermanentFailure(exc.detail) from exc
    actor = Actor(kind="rule", id=p.rule_id or "unknown-rule", name=p.rule_name)
    try:
        await apply_phase_change(
            uow,
            uow.tx,
            task,
            p.phase,
            expected=p.expected_phase,
            actor=actor,
            cause=event,
            rule_id=p.rule_id,
            rule_name=p.rule_name,
        )
    except (Conflict, Invalid) as refused:
        log.info("task.change_phase %s not applied: %s", event.event_id, refused.detail)
        await uow.store.record_rejection(
            event.event_id,
            event.tenant_id,
            event.type,
            refused.detail,
            uow.tx,
            task_id=task.id,
            expected_phase=p.expected_phase,
            phase=p.phase,
            rule_id=p.rule_id,
        )


def rule_action_id(command_id: str) -> str:
    """The id of the action a task.request_action creates: derived from the command, so a redelivered
    command finds the action it already created instead of adding a second one."""
    return uuid.uuid5(uuid.NAMESPACE_URL, f"akkoord:task.request_action:{command_id}").hex


async def request_action_for_rule(event: RequestTaskAction, uow: UnitOfWork) -> None:
    """task.request_action: a rule asks a contact for another action, validated and stored exactly as a staff
    request; one the tenant's data refuses (archived contact, unknown document, no signing plan) is recorded."""
    p, action_id = event.payload, rule_action_id(event.event_id)
    task_id = event.task_id or ""  # a command naming no task is refused as one not found
    try:
        tenant = await uow.store.get_tenant(event.tenant_id, uow.tx)
        await uow.store.get_task(event.tenant_id, task_id, uow.tx)
    except NotFound as exc:
        raise PermanentFailure(exc.detail) from exc
    try:
        await uow.store.get_action(event.tenant_id, action_id, uow.tx)
        return  # this command was applied before
    except NotFound:
        pass
    opened = now()
    request = SignatureRequest(
        contact_id=p.contact_id,
        kind=p.kind,
        fields=p.fields,
        document_id=p.document_id,
        message=p.message,
        expires_at=opened + timedelta(hours=p.expires_in_hours) if p.expires_in_hours else None,
        remind_at=[opened + timedelta(hours=h) for h in p.remind_in_hours],
    )
    try:
        document = None
        if p.document_id and (document := await uow.store.find_document(event.tenant_id, p.document_id)) is None:
            raise Invalid(f"document {p.document_id} not found in this tenant")
        await open_action(
            uow,
            uow.tx,
            tenant_id=event.tenant_id,
            plan=tenant["plan"],
            task_id=task_id,
            request=request,
            document=document,
            action_id=action_id,
            envelope={**event.caused(), "actor": event.actor},
            rule_id=p.rule_id,
            rule_name=p.rule_name,
        )
    except (Conflict, Forbidden, Invalid, NotFound) as refused:
        log.info("task.request_action %s not applied: %s", event.event_id, refused.detail)
        await uow.store.record_rejection(
            event.event_id,
            event.tenant_id,
            event.type,
            refused.detail,
            uow.tx,
            task_id=event.task_id,
            contact_id=p.contact_id,
            action_kind=p.kind,
            document_id=p.document_id,
            rule_id=p.rule_id,
        )


async def _open_action(uow: UnitOfWork, event: Envelope, action_id: str) -> Action:
    try:
        return await uow.store.get_action(event.tenant_id, action_id, uow.tx)
    except NotFound as exc:
        raise PermanentFailure(exc.detail) from exc


def _answer(submission: Envelope, action: Action) -> dict[str, Any]:
    """Envelope fields of tasks' answer to the portal's submission: caused by it, on the action's task."""
    return {**submission.caused(), "task_id": action.task_id, "actor": submission.actor}


def _about(action: Action) -> dict[str, Any]:
    """What every answer's payload starts with: the action, whose it is and its kind."""
    return {"action_id": action.id, "contact_id": action.contact_id, "kind": action.kind}


async def _refuse(uow: UnitOfWork, submission: Envelope, refusal: SigningRejected | DeclineRejected) -> None:
    """The portal took a signing or a decline for an action that was closed meanwhile (cancelled, replaced,
    expired, or signed or declined first): it is recorded as refused and answered with `refusal`. Rules, seals,
    stamping, staff mail and webhooks follow only tasks' acceptances; the timelines show the refusal."""
    await uow.store.record_rejection(
        submission.event_id,
        submission.tenant_id,
        submission.type,
        refusal.payload.reason,
        uow.tx,
        action_id=refusal.payload.action_id,
    )
    await uow.outbox.add(uow.tx, TASKS_EVENTS, refusal)


async def complete_signed_action(event: TaskSigned | DocumentSigned, uow: UnitOfWork) -> None:
    """task.signed / document.signed: the action is completed; emits task.action_completed."""
    action = await _open_action(uow, event, event.payload.action_id)
    if event.payload.signer.contact_id != action.contact_id:
        raise PermanentFailure(
            f"action {action.id} asks {action.contact_id} to sign, not {event.payload.signer.contact_id}"
        )
    if action.signed_event_id == event.event_id:
        return  # this signing completed the action already
    status = action.status
    try:
        action.complete(event.event_id, event.payload.evidence.signed_at)
        await close(uow, uow.tx, action)
    except ActionNotOpen as late:
        refused = SigningRejectedPayload(
            **_about(action), signed_event_id=event.event_id, action_status=status, reason=late.detail
        )
        await _refuse(uow, event, SigningRejected(**_answer(event, action), payload=refused))
        return
    await uow.outbox.add(
        uow.tx,
        TASKS_EVENTS,
        TaskActionCompleted(
            **_answer(event, action),
            payload=ActionCompletedPayload(**_about(action), signed_event_id=event.event_id, signing=event),
        ),
    )


async def decline_action(event: ActionDeclined, uow: UnitOfWork) -> None:
    """action.declined: the contact said no; the action is declined and tasks emits task.action_declined."""
    action = await _open_action(uow, event, event.payload.action_id)
    if action.declined_event_id == event.event_id:
        return  # this decline closed the action already
    status = action.status
    try:
        action.decline(event.payload.reason, event.payload.declined_at, event.event_id)
        await close(uow, uow.tx, action)
    except ActionNotOpen as late:
        refused = DeclineRejectedPayload(
            **_about(action), declined_event_id=event.event_id, action_status=status, reason=late.detail
        )
        await _refuse(uow, event, DeclineRejected(**_answer(event, action), payload=refused))
        return
    await uow.outbox.add(
        uow.tx,
        TASKS_EVENTS,
        TaskActionDeclined(
            **_answer(event, action),
            payload=TaskActionDeclinedPayload(**_about(action), declined_event_id=event.event_id, decline=event),
        ),
    )


async def record_document_version(event: DocumentUploaded | DocumentVersionAdded, uow: UnitOfWork) -> None:
    """document.uploaded / document.version_added: remember the newest version, to pin it on requests."""
    p = event.payload
    known = await uow.store.find_document(event.tenant_id, p.document_id)
    if known is not None and known.version >= p.version:
        return
    await uow.store.save_document_version(
        DocumentVersion(
            document_id=p.document_id,
            tenant_id=event.tenant_id,
            version_id=p.version_id,
            version=p.version,
            digest=p.digest,
            title=p.title,
        ),
        uow.tx,
    )
