"""Named dependencies for the portal's routes: the wired handlers, the session, CSRF, rate limits."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Header, HTTPException, Request
from fastapi.security import APIKeyCookie

from contracts.errors import Forbidden
from services.portal.domain import SessionContext, csrf_matches
from services.portal.entrypoints.ratelimit import RateLimiter
from services.portal.handlers import sessions
from services.portal.handlers.signing import Client
from services.portal.unit_of_work import UnitOfWork

COOKIE = "akkoord_session"


def get_portal(request: Request) -> UnitOfWork:
    return request.app.state.service.uow


PortalDep = Annotated[UnitOfWork, Depends(get_portal)]


def client_of(request: Request) -> Client:
    # Behind the ingress, uvicorn's proxy-headers support turns X-Forwarded-For into request.client.
    host = request.client.host if request.client else "unknown"
    return Client(ip=host, user_agent=request.headers.get("user-agent", ""))


ClientDep = Annotated[Client, Depends(client_of)]


# Documents the session cookie in OpenAPI; the cookie itself is set by GET /login.
session_cookie = APIKeyCookie(name=COOKIE, auto_error=False, description="Set by opening a magic link (/login)")


async def optional_session(
    portal: PortalDep, cookie: Annotated[str | None, Depends(session_cookie)]
) -> SessionContext | None:
    return await sessions.resume(portal, cookie)


async def current_session(ctx: Annotated[SessionContext | None, Depends(optional_session)]) -> SessionContext:
    if ctx is None:
        raise HTTPException(401, "Please open the link from your email to sign in again.")
    return ctx


OptionalSessionDep = Annotated[SessionContext | None, Depends(optional_session)]
SessionDep = Annotated[SessionContext, Depends(current_session)]


class RateLimited(Exception):
    def __init__(self, retry_after: float):
        super().__init__("Too many requests, please wait a moment.")
        self.retry_after = int(retry_after) + 1


def limit(limiter: RateLimiter, key: str) -> None:
    """Spend one of `key`'s tokens, or refuse with 429 saying when to come back."""
    wait = limiter.take(key)
    if wait:
        raise RateLimited(wait)


async def login_rate(request: Request, portal: PortalDep) -> None:
    """Only refused links count (a valid link works once anyway); an address that keeps failing waits."""
    wait = portal.login_limiter.retry_after(client_of(request).ip)
    if wait:
        raise RateLimited(wait)


async def change_rate(portal: PortalDep, ctx: Annotated[SessionContext | None, Depends(optional_session)]) -> None:
    """Every change a session makes (sign, decline, codes) spends from its bucket; without a session there is
    nothing to change, and the route says so."""
    if ctx is not None:
        limit(portal.signing_limiter, ctx.session_id)


async def csrf_checked(ctx: SessionDep, x_csrf_token: Annotated[str | None, Header()] = None) -> SessionContext:
    """State-changing API calls carry the session's CSRF token in `X-CSRF-Token`."""
    if not csrf_matches(ctx.csrf_token, x_csrf_token):
        raise Forbidden("Missing or wrong X-CSRF-Token header.")
    return ctx


CsrfSessionDep = Annotated[SessionContext, Depends(csrf_checked)]
LoginRate = Depends(login_rate)
ChangeRate = Depends(change_rate)
