"""What every console page needs: the console's parts, the signed-in user (or a redirect), CSRF on forms."""

from __future__ import annotations

import hmac
from dataclasses import dataclass
from typing import Annotated
from urllib.parse import quote

from fastapi import Depends, Request

from services.runtime.staff_auth import DEFAULT_TIME_ZONE, Staff
from services.tasks.adapters.console_queries import ConsoleQueries
from services.tasks.adapters.login_failures import LoginFailures
from services.tasks.adapters.staff_services import StaffServices
from services.tasks.config import Settings
from services.tasks.entrypoints.console.render import language_of
from services.tasks.handlers.accounts import session_user
from services.tasks.staff_users import ConsoleSession, StaffUser
from services.tasks.unit_of_work import UnitOfWork

COOKIE = "akkoord_console"
PREFIX = "/console"


@dataclass
class Console:
    uow: UnitOfWork
    services: StaffServices
    limiter: LoginFailures
    settings: Settings
    queries: ConsoleQueries


@dataclass
class Viewer:
    """The signed-in user on this request: their session, account, credential and language."""

    session: ConsoleSession
    user: StaffUser
    staff: Staff
    lang: str
    time_zone: str = DEFAULT_TIME_ZONE  # the tenant's: pages show moments in it, forms read dates in it

    @property
    def csrf_token(self) -> str:
        return self.session.csrf_token

    @property
    def is_admin(self) -> bool:
        return self.user.role == "admin"


class LoginRequired(Exception):
    def __init__(self, next_path: str):
        self.next_path = next_path


class CsrfRefused(Exception):
    pass


class AdminOnly(Exception):
    pass


def get_console(request: Request) -> Console:
    return request.app.state.console


ConsoleDep = Annotated[Console, Depends(get_console)]


async def viewer(request: Request, console: ConsoleDep) -> Viewer:
    secret = request.cookies.get(COOKIE)
    found = await session_user(console.uow, secret) if secret else None
    if found is None:
        raise LoginRequired(request.url.path + (f"?{request.url.query}" if request.url.query else ""))
    console_session, user, staff, time_zone = found
    signed_in = Viewer(console_session, user, staff, language_of(request, user.language), time_zone)
    request.state.viewer = signed_in  # error pages speak the user's language and keep the menu
    return signed_in


async def form_viewer(request: Request, signed_in: Annotated[Viewer, Depends(viewer)]) -> Viewer:
    """A form post: signed in and carrying the session's CSRF token (SameSite alone is not enough)."""
    form = await request.form()
    sent = form.get("csrf_token")
    if not isinstance(sent, str) or not hmac.compare_digest(sent.encode(), signed_in.csrf_token.encode()):
        raise CsrfRefused()
    return signed_in


async def admin_viewer(signed_in: Annotated[Viewer, Depends(viewer)]) -> Viewer:
    if not signed_in.is_admin:
        raise AdminOnly()
    return signed_in


async def admin_form_viewer(signed_in: Annotated[Viewer, Depends(form_viewer)]) -> Viewer:
    if not signed_in.is_admin:
        raise AdminOnly()
    return signed_in


SignedIn = Annotated[Viewer, Depends(viewer)]
FormSignedIn = Annotated[Viewer, Depends(form_viewer)]
Admin = Annotated[Viewer, Depends(admin_viewer)]
AdminForm = Annotated[Viewer, Depends(admin_form_viewer)]


def login_url(next_path: str) -> str:
    return f"{PREFIX}/login?next={quote(next_path, safe='')}"


def client_ip(request: Request) -> str:
    return request.client.host if request.client else "unknown"
