"""What the session's contact may see: their tasks, open actions, and each task's portal timeline."""

from __future__ import annotations

from contracts.errors import NotFound
from services.portal.domain import SessionContext, task_digest
from services.portal.unit_of_work import UnitOfWork

ACTION_KEYS = (
    "action_id",
    "kind",
    "status",
    "fields",
    "document_id",
    "document_version_id",
    "document_digest",
    "message",
    "expires_at",
    "requested_at",
    "closed_at",
    "language",
)


ARTEFACT_PATHS = {
    "signed_page": "signed-page.png",
    "signed_document": "signed-document.pdf",
    "approval_certificate": "sealed/approval_certificate.pdf",
    "sealed_document": "sealed/sealed_document.pdf",
}


def action_view(action: dict) -> dict:
    view = {k: action.get(k) for k in ACTION_KEYS}
    downloads = {
        name: f"/actions/{action['action_id']}/{ARTEFACT_PATHS[name]}"
        for name in (action.get("artefacts") or {})
        if name in ARTEFACT_PATHS
    }
    return {"id": action["action_id"], "task_id": action["task_id"], **view, "downloads": downloads}


def task_view(task: dict, actions: list[dict]) -> dict:
    return {
        "id": task["task_id"],
        "title": task.get("title", ""),
        "description": task.get("description", ""),
        "phase": task.get("phase", ""),
        "open_actions": [action_view(a) for a in actions if a["status"] == "open"],
    }


async def contact(uow: UnitOfWork, ctx: SessionContext) -> dict:
    contact = await uow.store.contact(ctx.tenant_id, ctx.contact_id) or {}
    return {
        "id": ctx.contact_id,
        "tenant_id": ctx.tenant_id,
        "name": contact.get("name", ""),
        "email": contact.get("email", ""),
        "company": contact.get("company"),
        "language": ctx.language,
    }


async def tasks(uow: UnitOfWork, ctx: SessionContext) -> list[dict]:
    actions = await uow.store.actions_of(ctx.tenant_id, ctx.contact_id)
    task_ids = sorted({a["task_id"] for a in actions})
    tasks = await uow.store.tasks_of(ctx.tenant_id, ctx.contact_id, task_ids)
    views = [task_view(t, [a for a in actions if a["task_id"] == t["task_id"]]) for t in tasks]
    # Tasks waiting for the contact first, then by title.
    return sorted(views, key=lambda v: (not v["open_actions"], v["title"].lower()))


async def task(uow: UnitOfWork, ctx: SessionContext, task_id: str, *, with_timeline: bool = True) -> dict:
    task = await uow.store.task(ctx.tenant_id, task_id)
    actions = await uow.store.actions_of(ctx.tenant_id, ctx.contact_id, [task_id])
    if task is None or (task.get("contact_id") != ctx.contact_id and not actions):
        raise NotFound("There is no such task for you.")
    view = {**task_view(task, actions), "actions": [action_view(a) for a in actions]}
    if with_timeline:
        entries = await uow.timeline.portal_entries(ctx.tenant_id, task_id, ctx.contact_id)
        view["timeline"] = entries or []
        view["timeline_available"] = entries is not None
    return view


async def action(uow: UnitOfWork, ctx: SessionContext, action_id: str) -> dict:
    """The action, and for a sign_task the digest of the task content shown, which the signature sends back."""
    action = await uow.store.action(ctx.tenant_id, action_id)
    if action is None or action["contact_id"] != ctx.contact_id:
        raise NotFound("There is no such action for you.")
    view = action_view(action)
    if action["kind"] == "sign_task":
        view["task_digest"] = task_digest(await uow.store.task(ctx.tenant_id, action["task_id"]) or {}, action)
    return view
