"""Signature requests (actions) on a task."""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter, Request
from pydantic import BaseModel, Field

from contracts.models import ActionKind, FieldSpec, Language
from services.runtime.staff_auth import CurrentStaff
from services.tasks.entrypoints.api.deps import IdempotencyHeader, UowDep, idempotency
from services.tasks.entrypoints.api.schemas import ActionOut
from services.tasks.handlers import actions
from services.tasks.handlers.actions import SignatureRequest

router = APIRouter(prefix="/v1/tasks/{task_id}/actions", tags=["actions"])


class ActionIn(BaseModel):
    contact_id: str
    kind: ActionKind
    fields: list[FieldSpec] = Field(
        [],
        max_length=50,
        examples=[[{"name": "approved_by", "label": "Approved by", "type": "text", "required": True}]],
    )
    document_id: str | None = Field(
        None, description="For sign_document: the document to sign (its current version is pinned)."
    )
    message: str | None = Field(None, max_length=2000, description="Shown to the customer in the portal.")
    expires_at: datetime | None = Field(None, description="After this moment the action expires by itself.")
    remind_at: list[datetime] = Field(
        [],
        max_length=10,
        description="Moments (before expires_at) at which "
        "action.reminder_due is emitted while the action is still open.",
    )
    notify: bool = Field(
        True,
        description="Mail the contact about this action (the request with a link, reminders, "
        "expiry, the proof). False when you send the link your own way.",
    )
    language: Language | None = Field(
        None,
        description="The language the task's title, the message and the "
        "field labels are written in; the portal marks them with it.",
    )

    def command(self) -> SignatureRequest:
        return SignatureRequest(**dict(self))


class CancelIn(BaseModel):
    reason: str | None = Field(None, max_length=2000)


@router.post(
    "", status_code=201, response_model=ActionOut, summary="Ask a contact to sign the task or a document (premium)"
)
async def request_signature(
    task_id: str,
    body: ActionIn,
    request: Request,
    staff: CurrentStaff,
    uow: UowDep,
    idempotency_key: IdempotencyHeader = None,
) -> dict:
    return await actions.request_signature(
        uow, staff, task_id, body.command(), idempotency(request, staff, idempotency_key, body)
    )


@router.get("/{action_id}", response_model=ActionOut, summary="Read one action")
async def get_action(task_id: str, action_id: str, staff: CurrentStaff, uow: UowDep) -> dict:
    return await actions.get_action(uow, staff, task_id, action_id)


@router.post(
    "/{action_id}/cancel", response_model=ActionOut, summary="Cancel an open action; the portal stops offering it"
)
async def cancel_action(
    task_id: str, action_id: str, staff: CurrentStaff, uow: UowDep, body: CancelIn | None = None
) -> dict:
    return await actions.cancel_action(uow, staff, task_id, action_id, body.reason if body else None)


@router.post(
    "/{action_id}/replace",
    status_code=201,
    response_model=ActionOut,
    summary="Replace an open action with a new request (the old one is cancelled)",
)
async def replace_action(
    task_id: str,
    action_id: str,
    body: ActionIn,
    request: Request,
    staff: CurrentStaff,
    uow: UowDep,
    idempotency_key: IdempotencyHeader = None,
) -> dict:
    return await actions.replace_action(
        uow, staff, task_id, action_id, body.command(), idempotency(request, staff, idempotency_key, body)
    )
