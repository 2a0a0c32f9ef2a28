"""The second-factor forms on the signing page: e-mail me a code, confirm the code."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response

from contracts.errors import Conflict, Invalid
from services.portal.entrypoints.deps import ChangeRate, OptionalSessionDep, PortalDep
from services.portal.entrypoints.page_errors import check_form_csrf
from services.portal.entrypoints.rendering import local_path, signed_out
from services.portal.handlers import second_factor

router = APIRouter(include_in_schema=False)


def _back(back: str, state: str) -> RedirectResponse:
    return RedirectResponse(f"{local_path(back).split('?')[0]}?otp={state}", status_code=303)


@router.post("/otp/send", dependencies=[ChangeRate], summary="E-mail a one-time code")
async def send_code(
    request: Request,
    portal: PortalDep,
    ctx: OptionalSessionDep,
    csrf_token: Annotated[str | None, Form()] = None,
    back: Annotated[str, Form()] = "/",
    action_id: Annotated[str, Form()] = "",
) -> Response:
    if ctx is None:
        return signed_out(request)
    check_form_csrf(ctx, csrf_token)
    try:
        await second_factor.send(portal, ctx, action_id)
    except Conflict as exc:
        return _back(back, "locked" if exc.extra.get("code") == "otp_locked" else "unavailable")
    return _back(back, "sent")


@router.post("/otp/verify", dependencies=[ChangeRate], summary="Confirm the one-time code")
async def verify_code(
    request: Request,
    portal: PortalDep,
    ctx: OptionalSessionDep,
    csrf_token: Annotated[str | None, Form()] = None,
    code: Annotated[str, Form()] = "",
    back: Annotated[str, Form()] = "/",
    action_id: Annotated[str, Form()] = "",
) -> Response:
    if ctx is None:
        return signed_out(request)
    check_form_csrf(ctx, csrf_token)
    try:
        await second_factor.verify(portal, ctx, action_id, code)
    except Conflict:
        return _back(back, "locked")
    except Invalid as exc:
        return _back(
            back, {"otp_expired": "expired", "otp_not_sent": "again"}.get(exc.extra.get("code") or "", "wrong")
        )
    return _back(back, "verified")
