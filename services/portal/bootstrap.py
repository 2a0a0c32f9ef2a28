"""Wires the portal: its unit of work (store, outbox, mail, timeline, files, verifier, caches, clock, rate
limits), routes and consumers. `build(settings, store=FakeStore(), ...)` swaps adapters, as unit tests do."""

from __future__ import annotations

from functools import partial
from pathlib import Path
from typing import Any

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles
from pymongo.errors import ConnectionFailure

from contracts import utcnow
from contracts.topics import PORTAL_EVENTS
from services.portal.adapters.internal_files import InternalFiles
from services.portal.adapters.mail import SmtpMailer
from services.portal.adapters.mongo import PortalStore
from services.portal.adapters.timeline import TimelineClient
from services.portal.adapters.verifier import SealVerifier
from services.portal.config import Settings
from services.portal.entrypoints import (
    api,
    files,
    otp_pages,
    page_errors,
    rendering,
    session_pages,
    sign_pages,
    task_pages,
    verify,
)
from services.portal.entrypoints.deps import RateLimited
from services.portal.entrypoints.ratelimit import RateLimiter
from services.portal.entrypoints.security import SecurityHeaders
from services.portal.entrypoints.subscribers import consumers
from services.portal.handlers.documents import ViewCache
from services.portal.unit_of_work import UnitOfWork
from services.runtime.app import build_runtime, create_app
from services.runtime.mail import SmtpSender
from services.runtime.service import Adapters, Service

STATIC = Path(__file__).parent / "static"


def _extend(settings: Settings, app: FastAPI) -> None:
    """Beyond routes: the static files, the security headers, and rate-limited pages answered as pages."""
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    app.add_middleware(SecurityHeaders)
    # FastAPI's decorator, as a call: it types the handler of one exception class (Starlette's
    # add_exception_handler wants one taking any Exception).
    app.exception_handler(RateLimited)(page_errors.rate_limited)
    app.exception_handler(ConnectionFailure)(page_errors.unavailable)


def build(settings: Settings, **overrides: Any) -> Service[UnitOfWork]:
    runtime = build_runtime("portal", settings)
    adapter = Adapters(overrides)
    uow = UnitOfWork(
        settings=settings,
        outbox=adapter("outbox", lambda: runtime.outbox),
        store=adapter("store", lambda: PortalStore(runtime.db)),
        mailer=adapter("mailer", lambda: SmtpMailer(SmtpSender.from_settings(settings))),
        timeline=adapter(
            "timeline",
            lambda: TimelineClient(settings.timeline_url, settings.internal_token, settings.timeline_timeout_seconds),
        ),
        files=adapter(
            "files", lambda: InternalFiles(settings.internal_token, [settings.documents_url, settings.signing_url])
        ),
        verifier=adapter(
            "verifier", lambda: SealVerifier(settings.signing_url, internal_token=settings.internal_token)
        ),
        views=adapter(
            "views", lambda: ViewCache(settings.document_view_cache_entries, settings.document_view_cache_chars)
        ),
        clock=adapter("clock", lambda: utcnow),
        login_limiter=adapter("login_limiter", lambda: RateLimiter(settings.login_burst, settings.login_per_minute)),
        signing_limiter=adapter(
            "signing_limiter", lambda: RateLimiter(settings.signing_burst, settings.signing_per_minute)
        ),
    )
    adapter.check()
    runtime.startup.append(uow.store.ensure_indexes)
    rendering.configure(settings.display_timezone)
    return Service(
        runtime,
        uow,
        title="Akkoord portal",
        description="The customer portal: magic-link sessions, open actions, signing and declining.",
        routers=[
            api.router,
            api.internal,
            files.router,
            session_pages.router,
            task_pages.router,
            sign_pages.router,
            otp_pages.router,
            verify.router,
        ],
        consumers=consumers(uow),
        publishes=(PORTAL_EVENTS,),
        extend_app=[partial(_extend, settings)],
    )


def build_app(settings: Settings, **overrides: Any) -> FastAPI:
    return create_app(build(settings, **overrides))
