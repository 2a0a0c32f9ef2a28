"""Settings, for admins: users and roles (invitations), API keys (the secret shown once), webhooks."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from starlette.datastructures import UploadFile

from contracts.errors import DomainError, Invalid, NotFound
from contracts.messages import WEBHOOK_MESSAGES, topic_of, topics_of, type_name
from services.tasks import branding as branding_rules
from services.tasks.domain import time_zone_choices
from services.tasks.entrypoints.console.deps import PREFIX, Admin, AdminForm, Console, ConsoleDep, Viewer
from services.tasks.entrypoints.console.render import catalogue, render
from services.tasks.handlers import accounts, branding, tenants

router = APIRouter(prefix=f"{PREFIX}/settings", include_in_schema=False)
# Every type automation lets a webhook subscribe to, by topic, as contracts declare them: a new event is offered
# the day it is declared.
WEBHOOK_EVENTS: tuple[tuple[str, tuple[str, ...]], ...] = tuple(
    (topic, tuple(type_name(m) for m in WEBHOOK_MESSAGES if topic_of(m) == topic))
    for topic in topics_of(WEBHOOK_MESSAGES)
)
WEBHOOK_DEFAULT = "task.signed"


async def _page(request: Request, console: Console, viewer: Viewer, *, status: int = 200, **extra: Any) -> Response:
    users = await accounts.list_users(console.uow, viewer.staff)
    keys = await tenants.list_keys(console.uow, viewer.staff)
    endpoints = (await console.services.json(viewer.staff, "GET", "automation", "/v1/webhooks"))["endpoints"]
    tenant = await console.uow.store.get_tenant(viewer.staff.tenant_id)
    return render(
        request,
        "settings.html",
        language=viewer.lang,
        viewer=viewer,
        status=status,
        users=users,
        keys=keys,
        endpoints=endpoints,
        tenant=tenant,
        webhook_events=WEBHOOK_EVENTS,
        webhook_default=WEBHOOK_DEFAULT,
        time_zones=time_zone_choices(),
        done=request.query_params.get("done"),
        **extra,
    )


@router.get("")
async def settings_page(request: Request, console: ConsoleDep, viewer: Admin) -> Response:
    return await _page(request, console, viewer)


@router.post("/users")
async def invite_user(request: Request, console: ConsoleDep, viewer: AdminForm) -> Response:
    form = await request.form()
    try:
        invited = await accounts.invite(
            console.uow,
            viewer.staff,
            email=str(form.get("email", "")),
            name=str(form.get("name", ""))[:200],
            role=str(form.get("role", "member")),
            language=str(form.get("language", "nl")),
        )
    except DomainError as exc:
        return await _page(request, console, viewer, status=exc.status, user_error=exc.detail)
    return await _page(request, console, viewer, invited=invited)


@router.post("/users/{user_id}")
async def change_user(request: Request, console: ConsoleDep, viewer: AdminForm, user_id: str) -> Response:
    form = await request.form()
    role = str(form.get("role", "")) or None
    active = {"1": True, "0": False}.get(str(form.get("active", "")))
    try:
        await accounts.change_user(
            console.uow,
            viewer.staff,
            user_id,
            role=role,  # type: ignore[arg-type]
            active=active,
        )
    except DomainError as exc:
        if isinstance(exc, NotFound):
            raise
        return await _page(request, console, viewer, status=exc.status, user_error=exc.detail)
    return RedirectResponse(f"{PREFIX}/settings?done=user#users", status_code=303)


@router.post("/branding")
async def set_branding(request: Request, console: ConsoleDep, viewer: AdminForm) -> Response:
    form = await request.form()
    upload = form.get("logo")
    logo = (
        await upload.read(branding_rules.MAX_LOGO_BYTES + 1)
        if isinstance(upload, UploadFile) and upload.filename
        else None
    )
    try:
        await branding.set_branding(
            console.uow,
            viewer.staff,
            name=str(form.get("name", "")),
            colour=str(form.get("colour", "")).strip() or None,
            logo=logo,
        )
    except DomainError as exc:
        return await _page(request, console, viewer, status=exc.status, branding_error=exc.detail)
    return RedirectResponse(f"{PREFIX}/settings?done=branding#branding", status_code=303)


@router.post("/time-zone")
async def set_time_zone(request: Request, console: ConsoleDep, viewer: AdminForm) -> Response:
    form = await request.form()
    chosen = str(form.get("time_zone", "")).strip()[:64]
    try:
        await tenants.set_time_zone(console.uow, viewer.staff, chosen)
    except Invalid:
        error = catalogue(viewer.lang)["time_zone_unknown"].format(zone=chosen)
        return await _page(request, console, viewer, status=422, time_zone_error=error)
    return RedirectResponse(f"{PREFIX}/settings?done=time_zone#time-zone", status_code=303)


@router.post("/keys")
async def create_key(request: Request, console: ConsoleDep, viewer: AdminForm) -> Response:
    form = await request.form()
    name = str(form.get("name", "")).strip()[:100] or "integration"
    role = "admin" if form.get("role") == "admin" else "staff"
    created = await tenants.create_key(console.uow, viewer.staff, name, role, None)
    return await _page(request, console, viewer, new_key=created)


@router.post("/keys/{key_id}/revoke")
async def revoke_key(request: Request, console: ConsoleDep, viewer: AdminForm, key_id: str) -> Response:
    await tenants.revoke_key(console.uow, viewer.staff, key_id)
    return RedirectResponse(f"{PREFIX}/settings?done=revoked#keys", status_code=303)


@router.post("/webhooks")
async def add_webhook(request: Request, console: ConsoleDep, viewer: AdminForm) -> Response:
    form = await request.form()
    spec = {
        "url": str(form.get("url", "")).strip(),
        "event_types": [str(e) for e in form.getlist("event_types")],
        "description": str(form.get("description", ""))[:500],
    }
    try:
        created = await console.services.json(viewer.staff, "POST", "automation", "/v1/webhooks", json=spec)
    except DomainError as exc:
        return await _page(request, console, viewer, status=exc.status, webhook_error=exc.detail)
    return await _page(request, console, viewer, new_webhook=created)


@router.post("/webhooks/{endpoint_id}/delete")
async def remove_webhook(request: Request, console: ConsoleDep, viewer: AdminForm, endpoint_id: str) -> Response:
    await console.services.request(viewer.staff, "DELETE", "automation", f"/v1/webhooks/{endpoint_id}")
    return RedirectResponse(f"{PREFIX}/settings?done=webhook_removed#webhooks", status_code=303)


@router.get("/webhooks/{endpoint_id}")
async def webhook_deliveries(request: Request, console: ConsoleDep, viewer: Admin, endpoint_id: str) -> Response:
    endpoints = (await console.services.json(viewer.staff, "GET", "automation", "/v1/webhooks"))["endpoints"]
    endpoint = next((e for e in endpoints if e["id"] == endpoint_id), None)
    if endpoint is None:
        raise NotFound("no such webhook endpoint")
    deliveries = (
        await console.services.json(viewer.staff, "GET", "automation", f"/v1/webhooks/{endpoint_id}/deliveries")
    )["deliveries"]
    return render(
        request, "webhook.html", language=viewer.lang, viewer=viewer, endpoint=endpoint, deliveries=deliveries
    )
