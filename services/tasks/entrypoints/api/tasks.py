"""Tasks and the tenant's phases."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel, Field

from services.runtime.staff_auth import CurrentStaff
from services.tasks.entrypoints.api.deps import IdempotencyHeader, PagingDep, UowDep, idempotency, page, patch_changes
from services.tasks.entrypoints.api.schemas import PhasesOut, TaskOut, TaskPage
from services.tasks.handlers import tasks

router = APIRouter(tags=["tasks"])
TaskSort = Literal["created_at", "-created_at", "updated_at", "-updated_at", "title", "-title", "phase", "-phase"]


class TaskIn(BaseModel):
    title: str = Field(min_length=1, max_length=300, examples=["Kitchen renovation, phase 1"])
    description: str = Field("", max_length=20_000)
    phase: str | None = Field(None, description="One of the tenant's phases; the first one when absent.")
    contact_id: str | None = None


class TaskPatch(BaseModel):
    title: str | None = Field(None, min_length=1, max_length=300)
    description: str | None = Field(None, max_length=20_000)
    contact_id: str | None = None


class PhaseIn(BaseModel):
    phase: str = Field(examples=["Waiting for approval"])
    if_phase: str | None = Field(None, description="Change only if the task is still in this phase (else 409).")


class PhasesIn(BaseModel):
    phases: list[str] = Field(examples=[["New", "In progress", "Waiting for approval", "Approved", "Done"]])


@router.post("/v1/tasks", status_code=201, response_model=TaskOut, summary="Create a task")
async def create_task(
    body: TaskIn, request: Request, staff: CurrentStaff, uow: UowDep, idempotency_key: IdempotencyHeader = None
) -> dict:
    return await tasks.create_task(
        uow, staff, **body.model_dump(), idem=idempotency(request, staff, idempotency_key, body)
    )


@router.get(
    "/v1/tasks",
    response_model=TaskPage,
    summary="List tasks, filtered by phase, contact or open action, sorted, a page at a time",
)
async def list_tasks(
    staff: CurrentStaff,
    uow: UowDep,
    paging: PagingDep,
    phase: Annotated[str | None, Query()] = None,
    contact_id: Annotated[str | None, Query()] = None,
    has_open_action: Annotated[bool | None, Query()] = None,
    sort: TaskSort = "-created_at",
) -> dict:
    items = await tasks.list_tasks(
        uow,
        staff,
        phase=phase,
        contact_id=contact_id,
        has_open_action=has_open_action,
        sort=sort,
        limit=paging.limit + 1,
        offset=paging.offset,
    )
    return page(items, paging)


@router.get("/v1/tasks/{task_id}", response_model=TaskOut, summary="Read a task with its actions")
async def get_task(task_id: str, staff: CurrentStaff, uow: UowDep) -> dict:
    return await tasks.get_task(uow, staff, task_id)


@router.patch("/v1/tasks/{task_id}", response_model=TaskOut, summary="Change a task's title, description or contact")
async def update_task(task_id: str, body: TaskPatch, staff: CurrentStaff, uow: UowDep) -> dict:
    return await tasks.update_task(uow, staff, task_id, patch_changes(body, ("title", "description")))


@router.put(
    "/v1/tasks/{task_id}/phase",
    response_model=TaskOut,
    summary="Move a task to a phase, optionally only if it is still in if_phase",
)
async def change_phase(task_id: str, body: PhaseIn, staff: CurrentStaff, uow: UowDep) -> dict:
    return await tasks.change_phase(uow, staff, task_id, body.phase, body.if_phase)


@router.get("/v1/phases", response_model=PhasesOut, summary="The tenant's task phases, in order")
async def list_phases(staff: CurrentStaff, uow: UowDep) -> dict:
    return await tasks.list_phases(uow, staff)


@router.put(
    "/v1/phases",
    response_model=PhasesOut,
    summary="Replace the tenant's task phases (a phase still in use cannot be removed)",
)
async def set_phases(body: PhasesIn, staff: CurrentStaff, uow: UowDep) -> dict:
    return await tasks.set_phases(uow, staff, body.phases)
