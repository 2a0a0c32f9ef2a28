"""Server-rendered pages for customers: login, my tasks, task, sign, decline. Forms post here, same handlers."""

from __future__ import annotations

from datetime import timezone
from pathlib import Path
from typing import Annotated
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from jinja2 import Environment, FileSystemLoader, select_autoescape

from contracts.errors import Conflict, Forbidden, Invalid, NotFound
from services.portal import i18n
from services.portal.domain import CONSENT_VERSION, SessionContext, consent_text, csrf_matches
from services.portal.entrypoints.deps import (
    COOKIE, ClientDep, LoginRate, OptionalSessionDep, PortalDep, RateLimited, limit,
)
from services.portal.entrypoints.sign_form import (
    ERROR_MESSAGES, ERROR_TARGETS, drawing_to_show_again, signature_choice, uploaded_image,
)
from services.portal.entrypoints.timeline_view import present
from services.portal.handlers.sessions import LinkRefused
from services.portal.handlers.signing import Submission
from services.runtime import problems

router = APIRouter(include_in_schema=False)
templates = Environment(loader=FileSystemLoader(Path(__file__).parent.parent / "templates"),
                        autoescape=select_autoescape(default=True), trim_blocks=True, lstrip_blocks=True)


templates.globals["display_zone"] = timezone.utc


def configure(display_zone: str) -> None:
    """Called once by bootstrap: the zone in which pages show times (the contact's locale sets the words)."""
    templates.globals["display_zone"] = ZoneInfo(display_zone)


def render(name: str, language: str, status: int = 200, ctx: SessionContext | None = None, **values) -> HTMLResponse:
    lang = i18n.language_of(language)
    zone = templates.globals["display_zone"]
    html = templates.get_template(name).render(
        t=i18n.messages(lang), lang=lang, session=ctx, csrf_token=ctx.csrf_token if ctx else "",
        when=lambda v: i18n.format_datetime(v, lang, zone), **values)
    return HTMLResponse(html, status_code=status)


def preferred_language(request: Request) -> str:
    """Without a session: ?lang=, else the browser's Accept-Language, else Dutch."""
    if request.query_params.get("lang") in i18n.LANGUAGES:
        return request.query_params["lang"]
    for part in request.headers.get("accept-language", "").split(","):
        code = part.split(";")[0].strip().lower()[:2]
        if code in i18n.LANGUAGES:
            return code
    return "nl"


def signed_out(request: Request) -> HTMLResponse:
    lang = preferred_language(request)
    t = i18n.messages(lang)
    return render("message.html", lang, 401, title=t["signed_out_title"], text=t["signed_out"])


def not_found(ctx: SessionContext) -> HTMLResponse:
    t = i18n.messages(ctx.language)
    return render("message.html", ctx.language, 404, ctx, title=t["not_found"], text="", back=True)


async def rate_limited(request: Request, exc: RateLimited) -> Response:
    """429 as a page for browsers, as problem details for the API; both say when to retry."""
    if request.url.path.startswith("/api/") or "text/html" not in request.headers.get("accept", ""):
        response = problems.problem(429, "Too many requests", str(exc))
    else:
        lang = preferred_language(request)
        response = render("message.html", lang, 429, title=i18n.messages(lang)["too_many"], text="")
    response.headers["Retry-After"] = str(exc.retry_after)
    return response


def check_form_csrf(ctx: SessionContext, token: str | None) -> None:
    if not csrf_matches(ctx.csrf_token, token):
        raise Forbidden("Missing or wrong CSRF token.")


@router.get("/login", summary="Open a session from a magic link")
async def login(request: Request, portal: PortalDep, client: ClientDep, ctx: OptionalSessionDep, token: str = "",
                _: None = LoginRate) -> Response:
    try:
        new = await portal.sessions.login(token, client.ip, client.user_agent)
    except LinkRefused as refused:
        if refused.owner and ctx is not None and refused.owner == (ctx.tenant_id, ctx.contact_id):
            return RedirectResponse("/", status_code=303)  # the link again, in the browser it already opened
        portal.login_limiter.retry_after(client.ip)  # count the failure
        lang = i18n.language_of(refused.language, preferred_language(request))
        t = i18n.messages(lang)
        return render("message.html", lang, refused.status, title=t[f"link_{refused.reason}_title"],
                      text=t[f"link_{refused.reason}"])
    response = RedirectResponse("/", status_code=303)
    response.set_cookie(COOKIE, new.cookie_value, max_age=portal.settings.session_hours * 3600, httponly=True,
                        samesite="lax", secure=portal.settings.secure_cookies, path="/")
    return response


@router.post("/logout", summary="End the session")
async def logout(request: Request, portal: PortalDep, ctx: OptionalSessionDep,
                 csrf_token: Annotated[str | None, Form()] = None) -> Response:
    if ctx is not None and csrf_matches(ctx.csrf_token, csrf_token):
        await portal.sessions.logout(request.cookies[COOKIE])
    response = RedirectResponse("/signed-out", status_code=303)
    response.delete_cookie(COOKIE, path="/")
    return response


@router.get("/favicon.ico", summary="No icon yet")
async def favicon() -> Response:
    return Response(status_code=204)


@router.get("/signed-out", summary="Signed out")
async def signed_out_page(request: Request) -> Response:
    return signed_out(request)


@router.post("/language", summary="Switch the portal's language")
async def switch_language(request: Request, portal: PortalDep, ctx: OptionalSessionDep,
                          language: Annotated[str, Form()], csrf_token: Annotated[str | None, Form()] = None,
                          back: Annotated[str, Form()] = "/") -> Response:
    if ctx is not None and csrf_matches(ctx.csrf_token, csrf_token):
        await portal.sessions.set_language(request.cookies[COOKIE], i18n.language_of(language))
    # Only local paths: never redirect somewhere a crafted form chose.
    target = back if back.startswith("/") and not back.startswith("//") else "/"
    return RedirectResponse(target, status_code=303)


@router.get("/", summary="My tasks")
async def my_tasks(request: Request, portal: PortalDep, ctx: OptionalSessionDep) -> Response:
    if ctx is None:
        return signed_out(request)
    tasks = await portal.queries.tasks(ctx)
    contact = await portal.queries.contact(ctx)
    return render("tasks.html", ctx.language, ctx=ctx, tasks=tasks, contact=contact, here="/")


@router.get("/tasks/{task_id}", summary="A task with its portal timeline")
async def task_page(task_id: str, request: Request, portal: PortalDep, ctx: OptionalSessionDep,
                    done: str | None = None) -> Response:
    if ctx is None:
        return signed_out(request)
    try:
        task = await portal.queries.task(ctx, task_id)
    except NotFound:
        return not_found(ctx)
    labels = {a["id"]: {f["name"]: f["label"] for f in a.get("fields") or []} for a in task["actions"]}
    timeline = [present(entry, ctx.language, labels) for entry in task["timeline"]]
    return render("task.html", ctx.language, ctx=ctx, task=task, timeline=timeline, done=done,
                  here=f"/tasks/{task_id}")


def form_errors(exc: Invalid, action: dict, language: str, signature_kind: str = "typed") -> dict[str, str]:
    """The refusal's errors, keyed by form field and worded in the contact's language."""
    t = i18n.messages(language)
    labels = {f["name"]: f["label"] for f in action.get("fields", [])}
    errors = {}
    for error in exc.extra.get("errors", []):
        name = error["field"].removeprefix("fields.")
        if name in labels:
            key = "field_too_long" if "too long" in error["message"] else "field_required"
            errors[name] = t[key].format(label=labels[name])
        elif name == "signature":
            errors[name] = t[ERROR_MESSAGES.get(signature_kind, "signature_required")]
        elif name in ("consent", "reason"):
            errors[name] = t[f"{name}_required"]
        else:
            errors[name] = error["message"]
    return errors


async def _action_and_task(portal, ctx: SessionContext, action_id: str) -> tuple[dict, dict]:
    action = await portal.queries.action(ctx, action_id)
    task = await portal.queries.task(ctx, action["task_id"], with_timeline=False)
    return action, task


async def _sign_form(portal, ctx: SessionContext, action: dict, task: dict, status: int = 200,
                     errors: dict | None = None, values: dict | None = None, problem: str | None = None,
                     otp_state: str | None = None) -> HTMLResponse:
    document = await portal.documents.view(ctx, action["id"]) if action["kind"] == "sign_document" else None
    factor = portal.second_factor.status(ctx)
    return render("sign.html", ctx.language, status, ctx, action=action, task=task, document=document,
                  needs_code=factor["required"] and not factor["verified"], otp_state=otp_state,
                  errors=errors or {},
                  values=values or {}, problem=problem, consent=consent_text(ctx.language),
                  consent_version=CONSENT_VERSION, error_targets=ERROR_TARGETS,
                  here=f"/actions/{action['id']}/sign")


def _text(form, name: str) -> str | None:
    value = form.get(name)
    return value if isinstance(value, str) else None


@router.get("/actions/{action_id}/sign", summary="The signing form")
async def sign_page(action_id: str, request: Request, portal: PortalDep, ctx: OptionalSessionDep) -> Response:
    if ctx is None:
        return signed_out(request)
    try:
        action, task = await _action_and_task(portal, ctx, action_id)
    except NotFound:
        return not_found(ctx)
    if action["status"] != "open":
        return RedirectResponse(f"/tasks/{task['id']}", status_code=303)
    return await _sign_form(portal, ctx, action, task, otp_state=request.query_params.get("otp"))


@router.post("/actions/{action_id}/sign", summary="Submit the signing form")
async def sign_submit(action_id: str, request: Request, portal: PortalDep, ctx: OptionalSessionDep,
                      client: ClientDep) -> Response:
    if ctx is None:
        return signed_out(request)
    form = await request.form(max_files=1, max_fields=200)
    check_form_csrf(ctx, form.get("csrf_token"))
    limit(portal.signing_limiter, ctx.session_id)
    try:
        action, task = await _action_and_task(portal, ctx, action_id)
    except NotFound:
        return not_found(ctx)
    values = {k.removeprefix("field."): str(v) for k, v in form.items() if k.startswith("field.")}
    uploaded = await uploaded_image(form.get("signature_file"), portal.settings.max_signature_bytes)
    choice = signature_choice(_text(form, "signature_kind"), _text(form, "signature_drawn"), uploaded,
                              _text(form, "typed_name"))
    submission = Submission(fields=values, signature_kind=choice.kind, png_base64=choice.png_base64,
                            typed_name=choice.typed_name, consent=form.get("consent") == "yes",
                            document_digest=str(form.get("document_digest") or "") or None,
                            consent_version=str(form.get("consent_version") or "") or None)
    try:
        await portal.signing.sign(ctx, action_id, submission, client)
    except Invalid as exc:
        errors = form_errors(exc, action, ctx.language, choice.kind)
        values.update(typed_name=choice.typed_name, signature_kind=choice.kind,
                      signature_drawn=drawing_to_show_again(choice, errors))
        return await _sign_form(portal, ctx, action, task, 422, errors, values)
    except Conflict as exc:
        t = i18n.messages(ctx.language)
        key = {"already_signed": "already_signed", "document_changed": "document_changed",
               "consent_changed": "consent_changed"}.get(exc.extra.get("code"), "not_open")
        if key == "already_signed":
            return RedirectResponse(f"/tasks/{task['id']}?done=signed", status_code=303)
        return await _sign_form(portal, ctx, action, task, 409, problem=t[key])
    except Forbidden:  # the second factor is required and not given yet
        return await _sign_form(portal, ctx, action, task, 403)
    except NotFound:
        return not_found(ctx)
    return RedirectResponse(f"/tasks/{task['id']}?done=signed", status_code=303)


@router.get("/actions/{action_id}/decline", summary="The decline form")
async def decline_page(action_id: str, request: Request, portal: PortalDep, ctx: OptionalSessionDep) -> Response:
    if ctx is None:
        return signed_out(request)
    try:
        action, task = await _action_and_task(portal, ctx, action_id)
    except NotFound:
        return not_found(ctx)
    if action["status"] != "open":
        return RedirectResponse(f"/tasks/{task['id']}", status_code=303)
    return render("decline.html", ctx.language, ctx=ctx, action=action, task=task, errors={}, values={},
                  here=f"/actions/{action_id}/decline")


@router.post("/actions/{action_id}/decline", summary="Submit the decline form")
async def decline_submit(action_id: str, request: Request, portal: PortalDep, ctx: OptionalSessionDep,
                         client: ClientDep, reason: Annotated[str, Form()] = "",
                         csrf_token: Annotated[str | None, Form()] = None) -> Response:
    if ctx is None:
        return signed_out(request)
    check_form_csrf(ctx, csrf_token)
    limit(portal.signing_limiter, ctx.session_id)
    try:
        action, task = await _action_and_task(portal, ctx, action_id)
        await portal.signing.decline(ctx, action_id, reason, client)
    except NotFound:
        return not_found(ctx)
    except (Invalid, Conflict) as exc:
        errors = (form_errors(exc, action, ctx.language) if isinstance(exc, Invalid) else {}) or \
            {"reason": i18n.messages(ctx.language)["not_open"]}
        return render("decline.html", ctx.language, 422 if isinstance(exc, Invalid) else 409, ctx, action=action,
                      task=task, errors=errors, values={"reason": reason}, here=f"/actions/{action_id}/decline")
    return RedirectResponse(f"/tasks/{task['id']}?done=declined", status_code=303)

