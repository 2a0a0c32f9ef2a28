"""The staff console: server-rendered pages under /console/, a front door to tasks' handlers and the other
services' staff APIs, for staff users signed in with a password."""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.responses import RedirectResponse, Response
from fastapi.staticfiles import StaticFiles

from contracts.errors import DomainError
from services.runtime import problems
from services.tasks.entrypoints.console import (
    auth_pages,
    contact_pages,
    document_pages,
    file_routes,
    rule_pages,
    settings_pages,
    task_pages,
)
from services.tasks.entrypoints.console.deps import (
    COOKIE,
    PREFIX,
    AdminOnly,
    CsrfRefused,
    LoginRequired,
    login_url,
)
from services.tasks.entrypoints.console.render import HERE, catalogue, language_of, render

ROUTERS = (
    auth_pages.router,
    task_pages.router,
    contact_pages.router,
    document_pages.router,
    rule_pages.router,
    settings_pages.router,
    file_routes.router,
)


def _viewer_and_language(request: Request) -> tuple[object, str]:
    viewer = getattr(request.state, "viewer", None)
    return viewer, language_of(request, viewer.lang if viewer else None)


def _message(request: Request, status: int, key: str, text_key: str | None = None) -> Response:
    viewer, lang = _viewer_and_language(request)
    t = catalogue(lang)
    return render(
        request,
        "message.html",
        language=lang,
        status=status,
        title=t[key],
        text=t[text_key] if text_key else "",
        back=True,
        viewer=viewer,
    )


def install(app: FastAPI) -> None:
    """Routes, static files, and errors as pages (404, not 403, for what another tenant owns)."""
    for router in ROUTERS:
        app.include_router(router)
    app.mount(f"{PREFIX}/static", StaticFiles(directory=HERE / "static"), name="console-static")

    @app.exception_handler(LoginRequired)
    async def login_required(request: Request, exc: LoginRequired) -> Response:
        response = RedirectResponse(login_url(exc.next_path), status_code=303)
        if request.cookies.get(COOKIE):
            response.delete_cookie(COOKIE, path=PREFIX)  # timed out or ended: forget it
        return response

    @app.exception_handler(CsrfRefused)
    async def csrf_refused(request: Request, _: CsrfRefused) -> Response:
        return _message(request, 403, "csrf_title", "csrf_text")

    @app.exception_handler(AdminOnly)
    async def admin_only(request: Request, _: AdminOnly) -> Response:
        return _message(request, 403, "admin_only_title", "admin_only_text")

    @app.exception_handler(DomainError)
    async def domain_error(request: Request, exc: DomainError) -> Response:
        if not request.url.path.startswith(PREFIX + "/"):
            return problems.problem(exc.status, exc.title, exc.detail, **exc.extra)
        if exc.status == 404:
            return _message(request, 404, "not_found_title", "not_found_text")
        if exc.status == 403:
            return _message(request, 403, "admin_only_title", "forbidden_text")
        if exc.status == 503:
            return _message(request, 503, "unavailable_title", "unavailable_text")
        viewer, lang = _viewer_and_language(request)
        return render(
            request,
            "message.html",
            language=lang,
            status=exc.status,
            viewer=viewer,
            title=catalogue(lang)["refused_title"],
            text=exc.detail,
            back=True,
        )
