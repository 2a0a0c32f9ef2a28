"""Sign in and out, accept an invitation, reset a password, choose the language."""

from __future__ import annotations

import hmac
from typing import Annotated, Literal

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response

from contracts.errors import Invalid
from services.tasks.entrypoints.console.deps import (
    COOKIE,
    PREFIX,
    ConsoleDep,
    FormSignedIn,
    client_ip,
)
from services.tasks.entrypoints.console.render import LANGUAGE_COOKIE, LANGUAGES, catalogue, language_of, render
from services.tasks.handlers import accounts
from services.tasks.handlers.accounts import TokenRefused
from services.tasks.staff_users import TokenPurpose, new_secret

router = APIRouter(prefix=PREFIX, include_in_schema=False)
# Forms posted before there is a session (sign in, forgot password) carry this cookie's value as a field:
# a page on another site cannot read it, so it cannot post them for the visitor (login CSRF).
FORM_COOKIE = "console_form"


def _safe_next(value: str | None) -> str:
    # Only a path of the console itself: never an open redirect to another site.
    if value and value.startswith(PREFIX + "/") and not value.startswith("//") and "\\" not in value:
        return value
    return PREFIX + "/"


def _cookie(
    response: Response, console, name: str, value: str, max_age: int, samesite: Literal["lax", "strict"] = "lax"
) -> None:
    response.set_cookie(
        name,
        value,
        max_age=max_age,
        path=PREFIX,
        httponly=True,
        samesite=samesite,
        secure=console.settings.secure_cookies,
    )


def _signed_out_page(request: Request, console, name: str, *, status: int = 200, **values) -> Response:
    """A page with a signed-out form: its token is the form cookie's (set here when the browser has none)."""
    token = request.cookies.get(FORM_COOKIE) or new_secret()
    response = render(request, name, language=language_of(request), status=status, form_token=token, **values)
    _cookie(response, console, FORM_COOKIE, token, 24 * 3600, samesite="strict")
    return response


def _form_token_ok(request: Request, sent: str) -> bool:
    expected = request.cookies.get(FORM_COOKIE, "")
    return bool(expected) and hmac.compare_digest(sent.encode(), expected.encode())


@router.get("/login")
async def login_page(
    request: Request, console: ConsoleDep, next: str | None = None, done: str | None = None, bye: str | None = None
) -> Response:
    lang = language_of(request)
    notice = catalogue(lang).get(f"login_{'bye' if bye else done}") if (bye or done) else None
    return _signed_out_page(request, console, "login.html", next=_safe_next(next), email="", notice=notice)


@router.post("/login")
async def login(
    request: Request,
    console: ConsoleDep,
    email: Annotated[str, Form(max_length=320)] = "",
    password: Annotated[str, Form(max_length=1024)] = "",
    next: Annotated[str, Form()] = "",
    form_token: Annotated[str, Form(max_length=200)] = "",
) -> Response:
    lang = language_of(request)
    if not _form_token_ok(request, form_token):
        return _signed_out_page(
            request,
            console,
            "login.html",
            status=403,
            next=_safe_next(next),
            email=email,
            error=catalogue(lang)["csrf_text"],
        )
    account_key, ip_key = f"account:{email.strip().casefold()}", f"ip:{client_ip(request)}"
    if (wait := await console.limiter.retry_after(account_key, ip_key)) is not None:
        response = _signed_out_page(
            request,
            console,
            "login.html",
            status=429,
            next=_safe_next(next),
            email=email,
            error=catalogue(lang)["login_throttled"].format(minutes=max(1, round(wait / 60))),
        )
        response.headers["Retry-After"] = str(wait)
        return response
    signed = await accounts.sign_in(console.uow, email, password) if email and password else None
    if signed is None:
        await console.limiter.failed(account_key, ip_key)
        return _signed_out_page(
            request,
            console,
            "login.html",
            status=401,
            next=_safe_next(next),
            email=email,
            error=catalogue(lang)["login_failed"],
        )
    await console.limiter.succeeded(account_key)
    secret, _ = signed
    response = RedirectResponse(_safe_next(next), status_code=303)
    _cookie(response, console, COOKIE, secret, int(console.settings.console_session_hours * 3600))
    return response


@router.post("/logout")
async def logout(request: Request, console: ConsoleDep, viewer: FormSignedIn) -> Response:
    await accounts.sign_out(console.uow, request.cookies.get(COOKIE, ""))
    response = RedirectResponse(f"{PREFIX}/login?bye=1", status_code=303)
    response.delete_cookie(COOKIE, path=PREFIX)
    return response


@router.post("/language")
async def choose_language(
    request: Request,
    console: ConsoleDep,
    viewer: FormSignedIn,
    language: Annotated[str, Form()],
    back: Annotated[str, Form()] = "",
) -> Response:
    if language in LANGUAGES and language != viewer.user.language:
        await console.uow.accounts.save_user(viewer.user.model_copy(update={"language": language}))
    return RedirectResponse(_safe_next(back), status_code=303)


@router.get("/lang/{language}")
async def choose_language_signed_out(
    request: Request, console: ConsoleDep, language: str, next: str | None = None
) -> Response:
    """Before signing in: the choice is kept in a cookie."""
    response = RedirectResponse(_safe_next(next or f"{PREFIX}/login"), status_code=303)
    if language in LANGUAGES:
        _cookie(response, console, LANGUAGE_COOKIE, language, 365 * 24 * 3600)
    return response


@router.get("/forgot")
async def forgot_page(request: Request, console: ConsoleDep) -> Response:
    return _signed_out_page(request, console, "forgot.html")


@router.post("/forgot")
async def forgot(
    request: Request,
    console: ConsoleDep,
    email: Annotated[str, Form(max_length=320)] = "",
    form_token: Annotated[str, Form(max_length=200)] = "",
) -> Response:
    lang = language_of(request)
    if not _form_token_ok(request, form_token):
        return _signed_out_page(request, console, "forgot.html", status=403, error=catalogue(lang)["csrf_text"])
    ip_key = f"reset-ip:{client_ip(request)}"
    if await console.limiter.retry_after(ip_key) is None and email:
        await console.limiter.failed(ip_key)  # counts requests, so that nobody floods an inbox from here
        await accounts.request_reset(console.uow, email)
    return render(
        request,
        "message.html",
        language=lang,
        title=catalogue(lang)["reset_sent_title"],
        text=catalogue(lang)["reset_sent"],
    )


def _refused(request: Request, lang: str, reason: str) -> Response:
    t = catalogue(lang)
    return render(
        request,
        "message.html",
        language=lang,
        status=410 if reason in ("used", "expired") else 404,
        title=t["link_refused_title"],
        text=t[f"link_{reason}"],
        login_link=True,
    )


async def _password_page(request: Request, console, secret: str, purpose: TokenPurpose) -> Response:
    try:
        user = await accounts.token_user(console.uow, secret, purpose)
    except TokenRefused as refused:
        return _refused(request, language_of(request, refused.language), refused.reason)
    return render(
        request,
        "set_password.html",
        language=language_of(request, user.language),
        purpose=purpose,
        user=user,
        action=request.url.path,
    )


async def _set_password(
    request: Request, console, secret: str, purpose: TokenPurpose, password: str, repeat: str
) -> Response:
    lang = language_of(request)
    try:
        user = await accounts.token_user(console.uow, secret, purpose)
        lang = language_of(request, user.language)
        if password != repeat:
            raise Invalid("passwords differ", errors=[{"field": "repeat", "message": "differ"}])
        await accounts.set_password_with(console.uow, secret, purpose, password)
    except TokenRefused as refused:
        return _refused(request, language_of(request, refused.language), refused.reason)
    except Invalid as invalid:
        problem = (invalid.extra.get("errors") or [{}])[0].get("message", "")
        key = {"too_short": "password_too_short", "too_long": "password_too_long", "differ": "password_differ"}
        return render(
            request,
            "set_password.html",
            language=lang,
            status=422,
            purpose=purpose,
            user=user,
            action=request.url.path,
            error=catalogue(lang)[key.get(problem, "password_too_short")],
        )
    return RedirectResponse(f"{PREFIX}/login?done={purpose}", status_code=303)


@router.get("/invitation/{secret}")
async def invitation_page(request: Request, console: ConsoleDep, secret: str) -> Response:
    return await _password_page(request, console, secret, "invitation")


@router.post("/invitation/{secret}")
async def accept_invitation(
    request: Request,
    console: ConsoleDep,
    secret: str,
    password: Annotated[str, Form(max_length=1024)] = "",
    repeat: Annotated[str, Form(max_length=1024)] = "",
) -> Response:
    return await _set_password(request, console, secret, "invitation", password, repeat)


@router.get("/reset/{secret}")
async def reset_page(request: Request, console: ConsoleDep, secret: str) -> Response:
    return await _password_page(request, console, secret, "reset")


@router.post("/reset/{secret}")
async def reset_password(
    request: Request,
    console: ConsoleDep,
    secret: str,
    password: Annotated[str, Form(max_length=1024)] = "",
    repeat: Annotated[str, Form(max_length=1024)] = "",
) -> Response:
    return await _set_password(request, console, secret, "reset", password, repeat)
