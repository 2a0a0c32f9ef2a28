"""Contacts: list and search, create, edit, archive; each contact's tasks and open actions."""

from __future__ import annotations

from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from contracts.errors import DomainError, NotFound
from services.tasks.entrypoints.console.deps import PREFIX, Console, ConsoleDep, FormSignedIn, SignedIn, Viewer
from services.tasks.entrypoints.console.render import render
from services.tasks.handlers import contacts, tasks

router = APIRouter(prefix=PREFIX, include_in_schema=False)
PAGE_SIZE = 25
FIELDS = ("name", "email", "company", "language")


def _values(form) -> dict[str, str]:
    values = {k: str(form.get(k, "")).strip() for k in FIELDS}
    values["language"] = "en" if values["language"] == "en" else "nl"
    return values


@router.get("/contacts")
async def contact_list(
    request: Request, console: ConsoleDep, viewer: SignedIn, q: str = "", archived: str = "", page: int = 1
) -> Response:
    page = max(1, min(page, 10_000))
    found = await console.queries.find_contacts(
        viewer.staff.tenant_id,
        text=q[:200] or None,
        archived=archived == "1",
        limit=PAGE_SIZE,
        offset=(page - 1) * PAGE_SIZE,
    )
    filters = {k: v for k, v in (("q", q), ("archived", archived)) if v}
    return render(
        request,
        "contacts.html",
        language=viewer.lang,
        viewer=viewer,
        contacts=found[:PAGE_SIZE],
        filters=filters,
        values={},
        error=None,
        page=page,
        next_page=f"?{urlencode({**filters, 'page': page + 1})}" if len(found) > PAGE_SIZE else None,
        previous_page=f"?{urlencode({**filters, 'page': page - 1})}" if page > 1 else None,
    )


@router.post("/contacts")
async def create_contact(request: Request, console: ConsoleDep, viewer: FormSignedIn) -> Response:
    values = _values(await request.form())
    try:
        created = await contacts.create_contact(
            console.uow,
            viewer.staff,
            name=values["name"][:200],
            email=values["email"],
            company=values["company"] or None,
            language=values["language"],
        )
    except DomainError as exc:
        found = await console.queries.find_contacts(
            viewer.staff.tenant_id, text=None, archived=False, limit=PAGE_SIZE, offset=0
        )
        return render(
            request,
            "contacts.html",
            language=viewer.lang,
            viewer=viewer,
            contacts=found[:PAGE_SIZE],
            filters={},
            values=values,
            error=exc.detail,
            status=exc.status,
            page=1,
            next_page=None,
            previous_page=None,
        )
    return RedirectResponse(f"{PREFIX}/contacts/{created['id']}?done=created", status_code=303)


async def _contact_page(
    request: Request,
    console: Console,
    viewer: Viewer,
    contact_id: str,
    *,
    status: int = 200,
    error: str | None = None,
    values: dict | None = None,
) -> Response:
    contact = await contacts.get_contact(console.uow, viewer.staff, contact_id)
    their_tasks = await tasks.list_tasks(
        console.uow,
        viewer.staff,
        phase=None,
        contact_id=contact_id,
        has_open_action=None,
        sort="-created_at",
        limit=100,
        offset=0,
    )
    open_actions = await console.queries.open_actions_of_contact(viewer.staff.tenant_id, contact_id)
    titles = {t["id"]: t["title"] for t in their_tasks}
    return render(
        request,
        "contact.html",
        language=viewer.lang,
        viewer=viewer,
        contact=contact,
        tasks=their_tasks,
        open_actions=open_actions,
        titles=titles,
        error=error,
        values=values or contact,
        done=request.query_params.get("done"),
        status=status,
    )


@router.get("/contacts/{contact_id}")
async def contact_page(request: Request, console: ConsoleDep, viewer: SignedIn, contact_id: str) -> Response:
    return await _contact_page(request, console, viewer, contact_id)


@router.post("/contacts/{contact_id}")
async def edit_contact(request: Request, console: ConsoleDep, viewer: FormSignedIn, contact_id: str) -> Response:
    values = _values(await request.form())
    changes = {**values, "company": values["company"] or None}
    try:
        await contacts.update_contact(console.uow, viewer.staff, contact_id, changes)
    except DomainError as exc:
        if isinstance(exc, NotFound):
            raise
        return await _contact_page(
            request, console, viewer, contact_id, status=exc.status, error=exc.detail, values=values
        )
    return RedirectResponse(f"{PREFIX}/contacts/{contact_id}?done=saved", status_code=303)


@router.post("/contacts/{contact_id}/archive")
async def archive_contact(request: Request, console: ConsoleDep, viewer: FormSignedIn, contact_id: str) -> Response:
    await contacts.archive_contact(console.uow, viewer.staff, contact_id)
    return RedirectResponse(f"{PREFIX}/contacts/{contact_id}?done=archived", status_code=303)
