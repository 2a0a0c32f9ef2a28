"""The signed-in contact's tasks, and one task with its portal timeline."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from contracts.errors import NotFound
from services.portal.entrypoints.deps import OptionalSessionDep, PortalDep
from services.portal.entrypoints.rendering import not_found, render, signed_out
from services.portal.entrypoints.timeline_view import present
from services.portal.handlers import documents, queries

router = APIRouter(include_in_schema=False)


@router.get("/", summary="My tasks")
async def my_tasks(request: Request, portal: PortalDep, ctx: OptionalSessionDep) -> Response:
    if ctx is None:
        return signed_out(request)
    tasks = await queries.tasks(portal, ctx)
    contact = await queries.contact(portal, ctx)
    return render("tasks.html", ctx.language, ctx=ctx, tasks=tasks, contact=contact, here="/")


@router.get("/tasks/{task_id}", summary="A task with its portal timeline")
async def task_page(
    task_id: str, request: Request, portal: PortalDep, ctx: OptionalSessionDep, done: str | None = None
) -> Response:
    if ctx is None:
        return signed_out(request)
    try:
        task = await queries.task(portal, ctx, task_id)
    except NotFound:
        return not_found(ctx)
    labels = {a["id"]: {f["name"]: f["label"] for f in a.get("fields") or []} for a in task["actions"]}
    written_in = {a["id"]: a.get("language") for a in task["actions"]}
    timeline = [present(entry, ctx.language, labels, written_in) for entry in task["timeline"]]
    for item in timeline:
        if item.action_id:  # the signed page: its text beside the image, as on the sign page
            item.text = await documents.signed_page_text(portal, ctx, item.action_id)
    return render("task.html", ctx.language, ctx=ctx, task=task, timeline=timeline, done=done, here=f"/tasks/{task_id}")
