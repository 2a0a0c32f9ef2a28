"""Timeline reads: staff (by staff key, any audience) and portal (server to server, one contact)."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query, Request

from services.runtime.staff_auth import CurrentStaff, InternalCaller
from services.timeline import handlers
from services.timeline.entrypoints.schemas import Heads, TimelinePage, Verification
from services.timeline.staff_links import for_staff
from services.timeline.unit_of_work import UnitOfWork


def get_uow(request: Request) -> UnitOfWork:
    return request.app.state.service.uow


UowDep = Annotated[UnitOfWork, Depends(get_uow)]
Kinds = Annotated[list[str] | None, Query(description="only entries of these kinds (event types)")]
Limit = Annotated[int, Query(ge=1, le=200)]


def _kinds(kind: list[str] | None) -> list[str] | None:
    return [k for value in kind for k in value.split(",") if k] if kind else None


staff = APIRouter(prefix="/v1/tasks", tags=["timeline"])


@staff.get(
    "/{task_id}/timeline",
    summary="A task's timeline for staff, newest first",
    response_model=TimelinePage,
    response_model_exclude_none=False,
)
async def staff_timeline(
    task_id: str,
    who: CurrentStaff,
    uow: UowDep,
    audience: Literal["staff", "portal"] = "staff",
    kind: Kinds = None,
    cursor: str | None = None,
    limit: Limit = 50,
) -> dict:
    found = await handlers.for_staff(
        uow, who.tenant_id, task_id, audience, kinds=_kinds(kind), cursor=cursor, limit=limit
    )
    return {**found, "entries": [for_staff(entry) for entry in found["entries"]]}


@staff.get(
    "/{task_id}/timeline/verify", summary="Re-compute the hash chain of a task's timelines", response_model=Verification
)
async def verify_timeline(task_id: str, who: CurrentStaff, uow: UowDep) -> dict:
    return await handlers.verify(uow, who.tenant_id, task_id)


internal = APIRouter(prefix="/internal/v1/tasks", tags=["internal"], dependencies=[InternalCaller])


@internal.get(
    "/{task_id}/timeline",
    summary="A contact's portal timeline of a task, newest first",
    response_model=TimelinePage,
    response_model_exclude_unset=True,
)
async def portal_timeline(
    task_id: str,
    tenant_id: str,
    contact_id: str,
    uow: UowDep,
    kind: Kinds = None,
    cursor: str | None = None,
    limit: Limit = 50,
) -> dict:
    return await handlers.for_contact(
        uow, tenant_id, task_id, contact_id, kinds=_kinds(kind), cursor=cursor, limit=limit
    )


@internal.get(
    "/{task_id}/timeline/head",
    summary="The hash-chain heads of a task's timelines, to anchor elsewhere",
    response_model=Heads,
)
async def timeline_head(task_id: str, tenant_id: str, uow: UowDep) -> dict:
    return await handlers.heads(uow, tenant_id, task_id)
