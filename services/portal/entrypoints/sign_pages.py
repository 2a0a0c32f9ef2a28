"""The signing and declining forms: shown on GET, posted to the same handlers as the JSON API."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from contracts.errors import Conflict, Forbidden, Invalid, NotFound
from services.portal import i18n
from services.portal.domain import CONSENT_VERSION, SessionContext, consent_text
from services.portal.entrypoints.deps import ChangeRate, ClientDep, OptionalSessionDep, PortalDep
from services.portal.entrypoints.page_errors import check_form_csrf, conflict_message, form_errors
from services.portal.entrypoints.rendering import not_found, render, signed_out
from services.portal.entrypoints.sign_form import (
    ERROR_TARGETS,
    drawing_to_show_again,
    signature_choice,
    uploaded_image,
)
from services.portal.handlers import documents, queries, second_factor, signing
from services.portal.handlers.signing import Submission

router = APIRouter(include_in_schema=False)


async def _action_and_task(portal, ctx: SessionContext, action_id: str) -> tuple[dict, dict]:
    action = await queries.action(portal, ctx, action_id)
    task = await queries.task(portal, ctx, action["task_id"], with_timeline=False)
    return action, task


async def _sign_form(
    portal,
    ctx: SessionContext,
    action: dict,
    task: dict,
    status: int = 200,
    errors: dict | None = None,
    values: dict | None = None,
    problem: str | None = None,
    otp_state: str | None = None,
) -> HTMLResponse:
    needs_code = _needs_code(portal, ctx)
    # The document is shown only once the code is confirmed, when the tenant asks for one.
    document = (
        await documents.view(portal, ctx, action["id"])
        if action["kind"] == "sign_document" and not needs_code
        else None
    )
    return render(
        "sign.html",
        ctx.language,
        status,
        ctx,
        action=action,
        task=task,
        document=document,
        needs_code=needs_code,
        otp_state=otp_state,
        errors=errors or {},
        values=values or {},
        problem=problem,
        consent=consent_text(ctx.language),
        consent_version=CONSENT_VERSION,
        error_targets=ERROR_TARGETS,
        here=f"/actions/{action['id']}/sign",
    )


def _needs_code(portal, ctx: SessionContext) -> bool:
    factor = second_factor.status(portal, ctx)
    return factor["required"] and not factor["verified"]


async def _decline_form(
    portal,
    ctx: SessionContext,
    action: dict,
    task: dict,
    status: int = 200,
    errors: dict | None = None,
    values: dict | None = None,
    otp_state: str | None = None,
) -> HTMLResponse:
    return render(
        "decline.html",
        ctx.language,
        status,
        ctx,
        action=action,
        task=task,
        errors=errors or {},
        values=values or {},
        needs_code=_needs_code(portal, ctx),
        otp_state=otp_state,
        here=f"/actions/{action['id']}/decline",
    )


def _text(form, name: str) -> str | None:
    value = form.get(name)
    return value if isinstance(value, str) else None


async def _form_page(
    request: Request, portal, ctx: SessionContext | None, action_id: str, form: Callable[..., Awaitable[HTMLResponse]]
) -> Response:
    """An action's form, shown for the contact's own open action; a closed one leads to its task."""
    if ctx is None:
        return signed_out(request)
    try:
        action, task = await _action_and_task(portal, ctx, action_id)
    except NotFound:
        return not_found(ctx)
    if action["status"] != "open":
        return RedirectResponse(f"/tasks/{task['id']}", status_code=303)
    return await form(portal, ctx, action, task, otp_state=request.query_params.get("otp"))


@router.get("/actions/{action_id}/sign", summary="The signing form")
async def sign_page(action_id: str, request: Request, portal: PortalDep, ctx: OptionalSessionDep) -> Response:
    return await _form_page(request, portal, ctx, action_id, _sign_form)


@router.post("/actions/{action_id}/sign", dependencies=[ChangeRate], summary="Submit the signing form")
async def sign_submit(
    action_id: str, request: Request, portal: PortalDep, ctx: OptionalSessionDep, client: ClientDep
) -> Response:
    if ctx is None:
        return signed_out(request)
    form = await request.form(max_files=1, max_fields=200)
    check_form_csrf(ctx, _text(form, "csrf_token"))
    try:
        action, task = await _action_and_task(portal, ctx, action_id)
    except NotFound:
        return not_found(ctx)
    values: dict[str, str | bool | None] = {
        k.removeprefix("field."): str(v) for k, v in form.items() if k.startswith("field.")
    }
    uploaded = await uploaded_image(form.get("signature_file"), portal.settings.max_signature_bytes)
    choice = signature_choice(
        _text(form, "signature_kind"), _text(form, "signature_drawn"), uploaded, _text(form, "typed_name")
    )
    submission = Submission(
        fields=values,
        signature_kind=choice.kind,
        png_base64=choice.png_base64,
        typed_name=choice.typed_name,
        consent=form.get("consent") == "yes",
        document_digest=_text(form, "document_digest") or None,
        consent_version=_text(form, "consent_version") or None,
        task_digest=_text(form, "task_digest") or None,
    )
    try:
        await signing.sign(portal, ctx, action_id, submission, client)
    except Invalid as exc:
        errors = form_errors(exc, action, ctx.language, choice.kind)
        values.update(
            typed_name=choice.typed_name,
            signature_kind=choice.kind,
            signature_drawn=drawing_to_show_again(choice, errors),
        )
        return await _sign_form(portal, ctx, action, task, 422, errors, values)
    except Conflict as exc:
        key = conflict_message(exc.extra.get("code"))
        if key == "already_signed":
            return RedirectResponse(f"/tasks/{task['id']}?done=signed", status_code=303)
        return await _sign_form(portal, ctx, action, task, 409, problem=i18n.messages(ctx.language)[key])
    except Forbidden:  # the second factor is required and not given yet
        return await _sign_form(portal, ctx, action, task, 403)
    except NotFound:
        return not_found(ctx)
    return RedirectResponse(f"/tasks/{task['id']}?done=signed", status_code=303)


@router.get("/actions/{action_id}/decline", summary="The decline form")
async def decline_page(action_id: str, request: Request, portal: PortalDep, ctx: OptionalSessionDep) -> Response:
    return await _form_page(request, portal, ctx, action_id, _decline_form)


@router.post("/actions/{action_id}/decline", dependencies=[ChangeRate], summary="Submit the decline form")
async def decline_submit(
    action_id: str,
    request: Request,
    portal: PortalDep,
    ctx: OptionalSessionDep,
    client: ClientDep,
    reason: Annotated[str, Form()] = "",
    csrf_token: Annotated[str | None, Form()] = None,
) -> Response:
    if ctx is None:
        return signed_out(request)
    check_form_csrf(ctx, csrf_token)
    try:
        action, task = await _action_and_task(portal, ctx, action_id)
        await signing.decline(portal, ctx, action_id, reason, client)
    except NotFound:
        return not_found(ctx)
    except Invalid as exc:
        return await _decline_form(
            portal, ctx, action, task, 422, form_errors(exc, action, ctx.language), {"reason": reason}
        )
    except Conflict as exc:
        text = i18n.messages(ctx.language)[conflict_message(exc.extra.get("code"))]
        return await _decline_form(portal, ctx, action, task, 409, {"reason": text}, {"reason": reason})
    except Forbidden:  # the second factor is required and not given yet
        return await _decline_form(portal, ctx, action, task, 403, values={"reason": reason})
    return RedirectResponse(f"/tasks/{task['id']}?done=declined", status_code=303)
