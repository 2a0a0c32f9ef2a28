"""Signing in and out: a magic link shows who it signs in (GET, no side effect); pressing the button uses it
(POST); logging out and switching the language."""

from __future__ import annotations

import hmac
import secrets
from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Cookie, Form, Request
from fastapi.responses import RedirectResponse, Response

from services.portal import i18n
from services.portal.domain import csrf_matches
from services.portal.entrypoints.deps import COOKIE, ClientDep, LoginRate, OptionalSessionDep, PortalDep
from services.portal.entrypoints.rendering import (
    browser_language,
    local_path,
    preferred_language,
    render,
    signed_out,
    switch_link,
)
from services.portal.handlers import sessions
from services.portal.handlers.sessions import LinkRefused

router = APIRouter(include_in_schema=False)

# Ties the confirmation's POST to a browser that was shown the confirmation: a site that posts its own link
# to /login (login CSRF) has no such cookie, so it cannot sign a visitor in to the attacker's session.
LOGIN_COOKIE = "akkoord_login"
LOGIN_COOKIE_SECONDS = 30 * 60


def _refused(request: Request, portal, refused: LinkRefused, client_ip: str, ctx) -> Response:
    if refused.owner and ctx is not None and refused.owner == (ctx.tenant_id, ctx.contact_id):
        return RedirectResponse("/", status_code=303)  # the link again, in the browser it already opened
    portal.login_limiter.take(client_ip)  # count the failure
    # The browser's language first: whoever holds a used or stranger's link may not be the contact.
    lang = browser_language(request) or i18n.language_of(refused.language)
    t = i18n.messages(lang)
    return render(
        "message.html",
        lang,
        refused.status,
        title=t[f"link_{refused.reason}_title"],
        text=t[f"link_{refused.reason}"],
        switch_to=switch_link(request, lang),
    )


async def _confirmation(request: Request, portal, token: str, client_ip: str, ctx, status: int = 200) -> Response:
    try:
        who = await sessions.preview(portal, token)
    except LinkRefused as refused:
        return _refused(request, portal, refused, client_ip, ctx)
    nonce = secrets.token_urlsafe(24)
    # The contact's language, unless the page's own switch (?lang=) asked for the other one.
    asked = request.query_params.get("lang")
    lang = asked if asked in i18n.LANGUAGES else i18n.language_of(who.language, preferred_language(request))
    switch = switch_link(request, lang) if request.method == "GET" else None  # GET /login has no side effect
    response = render("login.html", lang, status, brand=who.brand, who=who, token=token, nonce=nonce, switch_to=switch)
    response.set_cookie(
        LOGIN_COOKIE,
        nonce,
        max_age=LOGIN_COOKIE_SECONDS,
        httponly=True,
        samesite="strict",
        secure=portal.settings.secure_cookies,
        path="/login",
    )
    return response


@router.get("/login", summary="Show who a magic link signs in; nothing is used yet")
async def login_page(
    request: Request,
    portal: PortalDep,
    client: ClientDep,
    ctx: OptionalSessionDep,
    token: str = "",
    _: None = LoginRate,
) -> Response:
    return await _confirmation(request, portal, token, client.ip, ctx)


@router.post("/login", summary="Use the magic link: open a session")
async def login(
    request: Request,
    portal: PortalDep,
    client: ClientDep,
    ctx: OptionalSessionDep,
    token: Annotated[str, Form()] = "",
    nonce: Annotated[str, Form()] = "",
    confirmed: Annotated[str | None, Cookie(alias=LOGIN_COOKIE)] = None,
    _: None = LoginRate,
) -> Response:
    if not (confirmed and nonce and hmac.compare_digest(confirmed.encode(), nonce.encode())):
        # Not posted from our confirmation in this browser: show it (again), so the person sees who signs in.
        return await _confirmation(request, portal, token, client.ip, ctx, status=403)
    try:
        new = await sessions.login(portal, token, client.ip, client.user_agent)
    except LinkRefused as refused:
        return _refused(request, portal, refused, client.ip, ctx)
    # A link sent about one task (a notification mail) lands on that task.
    response = RedirectResponse(f"/tasks/{quote(new.task_id, safe='')}" if new.task_id else "/", status_code=303)
    response.set_cookie(
        COOKIE,
        new.cookie_value,
        max_age=portal.settings.session_hours * 3600,
        httponly=True,
        samesite="lax",
        secure=portal.settings.secure_cookies,
        path="/",
    )
    response.delete_cookie(LOGIN_COOKIE, path="/login")
    return response


@router.post("/logout", summary="End the session")
async def logout(
    request: Request, portal: PortalDep, ctx: OptionalSessionDep, csrf_token: Annotated[str | None, Form()] = None
) -> Response:
    if ctx is not None and csrf_matches(ctx.csrf_token, csrf_token):
        await sessions.logout(portal, request.cookies[COOKIE])
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
async def switch_language(
    request: Request,
    portal: PortalDep,
    ctx: OptionalSessionDep,
    language: Annotated[str, Form()],
    csrf_token: Annotated[str | None, Form()] = None,
    back: Annotated[str, Form()] = "/",
) -> Response:
    if ctx is not None and csrf_matches(ctx.csrf_token, csrf_token):
        await sessions.set_language(portal, request.cookies[COOKIE], i18n.language_of(language))
    return RedirectResponse(local_path(back), status_code=303)
