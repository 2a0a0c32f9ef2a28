"""Tasks: the list (filters, search, pages), a new task, and the task page with its phase, action and timeline."""

from __future__ import annotations

import re
import unicodedata
from datetime import UTC, datetime, time, timedelta, tzinfo
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from starlette.datastructures import FormData

from contracts.errors import DomainError, Invalid, NotFound
from contracts.models import FieldSpec
from services.tasks.adapters.console_queries import ConsoleQueries, RequestState
from services.tasks.adapters.mail import MailNotSent
from services.tasks.domain import PhaseMismatch
from services.tasks.entrypoints.console.deps import PREFIX, Console, ConsoleDep, FormSignedIn, SignedIn, Viewer
from services.tasks.entrypoints.console.render import ZONE, catalogue, render, request_zone
from services.tasks.entrypoints.console.task_view import task_page_values
from services.tasks.handlers import actions, contacts, tasks
from services.tasks.handlers.actions import SignatureRequest

router = APIRouter(prefix=PREFIX, include_in_schema=False)
PAGE_SIZE = 25
STATES: tuple[RequestState, ...] = ("waiting", "signed", "declined", "expired")


def queries(console: Console) -> ConsoleQueries:
    return console.queries


@router.get("/")
async def home() -> Response:
    return RedirectResponse(f"{PREFIX}/tasks", status_code=303)


@router.get("/tasks")
async def task_list(
    request: Request,
    console: ConsoleDep,
    viewer: SignedIn,
    phase: str = "",
    state: str = "",
    q: str = "",
    page: int = 1,
) -> Response:
    page = max(1, min(page, 10_000))
    phases = (await tasks.list_phases(console.uow, viewer.staff))["phases"]
    found, states, people = await queries(console).find_tasks(
        viewer.staff.tenant_id,
        phase=phase if phase in phases else None,
        state=state if state in STATES else None,
        text=q[:200] or None,
        limit=PAGE_SIZE,
        offset=(page - 1) * PAGE_SIZE,
    )
    filters = {k: v for k, v in (("phase", phase), ("state", state), ("q", q)) if v}
    return render(
        request,
        "tasks.html",
        language=viewer.lang,
        viewer=viewer,
        tasks=found[:PAGE_SIZE],
        states=states,
        people=people,
        phases=phases,
        all_states=STATES,
        filters=filters,
        page=page,
        next_page=f"?{urlencode({**filters, 'page': page + 1})}" if len(found) > PAGE_SIZE else None,
        previous_page=f"?{urlencode({**filters, 'page': page - 1})}" if page > 1 else None,
    )


@router.get("/tasks/new")
async def new_task_page(request: Request, console: ConsoleDep, viewer: SignedIn, contact_id: str = "") -> Response:
    return await _new_task(request, console, viewer, values={"contact_id": contact_id})


async def _new_task(
    request: Request, console: Console, viewer: Viewer, *, values: dict, error: str | None = None, status: int = 200
) -> Response:
    phases = (await tasks.list_phases(console.uow, viewer.staff))["phases"]
    people = await queries(console).all_contacts(viewer.staff.tenant_id)
    return render(
        request,
        "task_new.html",
        language=viewer.lang,
        viewer=viewer,
        phases=phases,
        contacts=people,
        values=values,
        error=error,
        status=status,
    )


@router.post("/tasks")
async def create_task(request: Request, console: ConsoleDep, viewer: FormSignedIn) -> Response:
    form = await request.form()
    values = {k: str(form.get(k, "")).strip() for k in ("title", "description", "phase", "contact_id")}
    if not values["title"]:
        return await _new_task(
            request, console, viewer, values=values, status=422, error=catalogue(viewer.lang)["title_required"]
        )
    try:
        created = await tasks.create_task(
            console.uow,
            viewer.staff,
            title=values["title"][:300],
            description=values["description"][:20_000],
            phase=values["phase"] or None,
            contact_id=values["contact_id"] or None,
        )
    except DomainError as exc:
        return await _new_task(request, console, viewer, values=values, error=exc.detail, status=exc.status)
    return RedirectResponse(f"{PREFIX}/tasks/{created['id']}?done=created", status_code=303)


async def _task_page(
    request: Request, console: Console, viewer: Viewer, task_id: str, *, status: int = 200, **extra: Any
) -> Response:
    values = await task_page_values(console, viewer, task_id)
    return render(
        request,
        "task.html",
        language=viewer.lang,
        viewer=viewer,
        status=status,
        done=request.query_params.get("done"),
        **values,
        **extra,
    )


@router.get("/tasks/{task_id}")
async def task_page(request: Request, console: ConsoleDep, viewer: SignedIn, task_id: str) -> Response:
    return await _task_page(request, console, viewer, task_id)


@router.post("/tasks/{task_id}/phase")
async def change_phase(request: Request, console: ConsoleDep, viewer: FormSignedIn, task_id: str) -> Response:
    form = await request.form()
    phase, if_phase = str(form.get("phase", "")), str(form.get("if_phase", "")) or None
    try:
        await tasks.change_phase(console.uow, viewer.staff, task_id, phase, if_phase)
    except PhaseMismatch:
        # A stale form: say the phase moved and show the current one (the page reads it again).
        current = (await tasks.get_task(console.uow, viewer.staff, task_id))["phase"]
        return await _task_page(
            request,
            console,
            viewer,
            task_id,
            status=409,
            error=catalogue(viewer.lang)["phase_moved"].format(phase=current),
        )
    except Invalid as exc:
        return await _task_page(request, console, viewer, task_id, status=422, error=exc.detail)
    return RedirectResponse(f"{PREFIX}/tasks/{task_id}?done=phase", status_code=303)


@router.post("/tasks/{task_id}/edit")
async def edit_task(request: Request, console: ConsoleDep, viewer: FormSignedIn, task_id: str) -> Response:
    form = await request.form()
    changes: dict[str, Any] = {
        "title": str(form.get("title", "")).strip()[:300],
        "description": str(form.get("description", ""))[:20_000],
    }
    if not changes["title"]:
        return await _task_page(
            request, console, viewer, task_id, status=422, error=catalogue(viewer.lang)["title_required"]
        )
    if contact_id := str(form.get("contact_id", "")):
        changes["contact_id"] = contact_id
    try:
        await tasks.update_task(console.uow, viewer.staff, task_id, changes)
    except (Invalid, NotFound) as exc:
        if isinstance(exc, NotFound) and "task" in exc.detail:
            raise
        return await _task_page(request, console, viewer, task_id, status=exc.status, error=exc.detail)
    return RedirectResponse(f"{PREFIX}/tasks/{task_id}?done=saved", status_code=303)


def field_name(label: str, taken: set[str]) -> str:
    """A field's machine name from its label: 'Naam klant' -> naam_klant (unique within the request)."""
    ascii_label = unicodedata.normalize("NFKD", label).encode("ascii", "ignore").decode().lower()
    base = re.sub(r"[^a-z0-9]+", "_", ascii_label).strip("_")[:50] or "field"
    if not base[0].isalpha():
        base = f"f_{base}"
    name, n = base, 2
    while name in taken:
        name, n = f"{base}_{n}", n + 1
    taken.add(name)
    return name


def _moment(value: str, field: str, in_zone: tzinfo) -> datetime | None:
    """A date (end of that day) or date-time from the form, in the tenant's zone."""
    if not value:
        return None
    try:
        if "T" in value:
            at = datetime.fromisoformat(value)
        else:
            at = datetime.combine(datetime.fromisoformat(value).date(), time(23, 59))
    except ValueError:
        raise Invalid(f"{value!r} is not a date", errors=[{"field": field, "message": "not a date"}]) from None
    return (at if at.tzinfo else at.replace(tzinfo=in_zone)).astimezone(UTC)


def signature_request(form: FormData, in_zone: tzinfo = ZONE) -> SignatureRequest | None:
    """The action form as the same command the staff API builds; None for 'no action'. Its deadline is a moment
    in `in_zone`, the tenant's."""
    kind = str(form.get("kind", "none"))
    if kind == "none":
        return None
    if kind not in ("sign_task", "sign_document"):
        raise Invalid("choose an action", errors=[{"field": "kind", "message": "unknown"}])
    fields: list[FieldSpec] = []
    taken: set[str] = set()
    labels, required = form.getlist("field_label"), set(form.getlist("field_required"))
    for index, label in enumerate(labels):
        label = str(label).strip()
        if label:
            fields.append(FieldSpec(name=field_name(label, taken), label=label[:200], required=str(index) in required))
    document_id = str(form.get("document_id", "")) or None
    if kind == "sign_document" and not document_id:
        raise Invalid("choose the document to sign", errors=[{"field": "document_id", "message": "missing"}])
    expires_at = _moment(str(form.get("expires_at", "")), "expires_at", in_zone)
    remind_at = []
    if expires_at and (days := str(form.get("remind_days_before", ""))):
        if not days.isdigit() or not 0 < int(days) < 365:
            raise Invalid(
                "days before the deadline must be a number from 1",
                errors=[{"field": "remind_days_before", "message": "not a number"}],
            )
        remind_at = [expires_at - timedelta(days=int(days))]
    # An unticked box sends nothing: the form says it showed the box, else the contact is mailed as by default.
    notify = form.get("notify") == "1" if "notify_shown" in form else True
    return SignatureRequest(
        contact_id=str(form.get("contact_id", "")),
        kind=kind,  # type: ignore[arg-type]
        fields=fields if kind == "sign_task" else [],
        document_id=document_id if kind == "sign_document" else None,
        message=str(form.get("message", "")).strip()[:2000] or None,
        expires_at=expires_at,
        remind_at=remind_at,
        notify=notify,
    )


@router.post("/tasks/{task_id}/actions")
async def request_action(request: Request, console: ConsoleDep, viewer: FormSignedIn, task_id: str) -> Response:
    form = await request.form()
    replaces = str(form.get("replaces", "")) or None
    try:
        command = signature_request(form, request_zone(request))
        if command is None:
            if replaces:
                await actions.cancel_action(console.uow, viewer.staff, task_id, replaces, None)
                return RedirectResponse(f"{PREFIX}/tasks/{task_id}?done=cancelled", status_code=303)
            return RedirectResponse(f"{PREFIX}/tasks/{task_id}", status_code=303)
        if not command.contact_id:
            raise Invalid("choose the contact who signs", errors=[{"field": "contact_id", "message": "missing"}])
        if replaces:
            await actions.replace_action(console.uow, viewer.staff, task_id, replaces, command)
        else:
            await actions.request_signature(console.uow, viewer.staff, task_id, command)
    except DomainError as exc:
        if isinstance(exc, NotFound) and exc.detail.startswith("task "):
            raise
        return await _task_page(
            request, console, viewer, task_id, status=exc.status, action_error=exc.detail, form=form
        )
    return RedirectResponse(f"{PREFIX}/tasks/{task_id}?done=requested", status_code=303)


@router.post("/tasks/{task_id}/actions/{action_id}/cancel")
async def cancel_action(
    request: Request, console: ConsoleDep, viewer: FormSignedIn, task_id: str, action_id: str
) -> Response:
    try:
        await actions.cancel_action(console.uow, viewer.staff, task_id, action_id, None)
    except DomainError as exc:
        if isinstance(exc, NotFound):
            raise
        return await _task_page(request, console, viewer, task_id, status=exc.status, error=exc.detail)
    return RedirectResponse(f"{PREFIX}/tasks/{task_id}?done=cancelled", status_code=303)


@router.post("/tasks/{task_id}/portal-link")
async def portal_link(request: Request, console: ConsoleDep, viewer: FormSignedIn, task_id: str) -> Response:
    """A fresh single-use magic link for the task's contact: shown to copy, or mailed to them."""
    form = await request.form()
    task = await tasks.get_task(console.uow, viewer.staff, task_id)
    contact_id = str(form.get("contact_id", "")) or task["contact_id"]
    if not contact_id:
        return await _task_page(
            request, console, viewer, task_id, status=422, error=catalogue(viewer.lang)["no_contact"]
        )
    try:
        link = await contacts.create_portal_link(console.uow, viewer.staff, contact_id)
    except DomainError as exc:
        return await _task_page(request, console, viewer, task_id, status=exc.status, error=exc.detail)
    if form.get("send") == "email":
        contact = await contacts.get_contact(console.uow, viewer.staff, contact_id)
        t = catalogue(contact["language"])
        try:
            await console.uow.mailer.send(
                contact["email"],
                t["link_mail_subject"].format(title=task["title"]),
                t["link_mail_body"].format(name=contact["name"], title=task["title"], url=link["url"]),
            )
        except MailNotSent:
            # Not sent: show the link instead, so staff can hand it over another way.
            return await _task_page(
                request,
                console,
                viewer,
                task_id,
                status=503,
                portal_url=link["url"],
                error=catalogue(viewer.lang)["mail_not_sent"],
            )
        return RedirectResponse(f"{PREFIX}/tasks/{task_id}?done=mailed", status_code=303)
    return await _task_page(request, console, viewer, task_id, portal_url=link["url"])
