"""Wires the tasks service: its unit of work (store, idempotency records, staff keys), routes, consumers,
the action schedule and the staff console. `build(settings, store=FakeStore(), ...)` swaps adapters, as unit
tests do."""

from __future__ import annotations

from datetime import timedelta
from functools import partial
from typing import Any

from fastapi import FastAPI

from contracts.topics import TASKS_EVENTS
from services.runtime.app import Runtime, build_runtime, create_app
from services.runtime.mail import SmtpSender
from services.runtime.service import Adapters, Service
from services.tasks.adapters.accounts import AccountsStore
from services.tasks.adapters.console_queries import ConsoleQueries
from services.tasks.adapters.idempotency import IdempotencyRecords
from services.tasks.adapters.login_failures import LoginFailures
from services.tasks.adapters.mail import SmtpMailer
from services.tasks.adapters.mongo import TasksStore
from services.tasks.adapters.staff_services import StaffServices
from services.tasks.config import Settings
from services.tasks.entrypoints import console
from services.tasks.entrypoints.api import ROUTERS
from services.tasks.entrypoints.console.deps import Console
from services.tasks.entrypoints.subscribers import consumers
from services.tasks.handlers.schedule import action_schedule_pass
from services.tasks.unit_of_work import UnitOfWork


def build(settings: Settings, **overrides: Any) -> Service[UnitOfWork]:
    runtime = build_runtime("tasks", settings)
    adapter = Adapters(overrides)
    uow = UnitOfWork(
        settings=settings,
        outbox=adapter("outbox", lambda: runtime.outbox),
        store=adapter("store", lambda: TasksStore(runtime.db)),
        staff_keys=adapter("staff_keys", lambda: runtime.staff_keys),
        idempotency=adapter(
            "idempotency", lambda: IdempotencyRecords(runtime.db, timedelta(hours=settings.idempotency_retention_hours))
        ),
        accounts=adapter("accounts", lambda: AccountsStore(runtime.db)),
        mailer=adapter("mailer", lambda: SmtpMailer(SmtpSender.from_settings(settings))),
    )
    adapter.check()
    runtime.startup += [uow.store.ensure_indexes, uow.idempotency.ensure_indexes, uow.accounts.ensure_indexes]
    runtime.every(settings.expiry_interval_seconds, partial(action_schedule_pass, uow), "action-schedule")
    return Service(
        runtime,
        uow,
        title="Akkoord tasks — staff API",
        routers=ROUTERS,
        consumers=consumers(uow),
        publishes=(TASKS_EVENTS,),
        description="Contacts, tasks, phases and signature requests for staff; tenants and API keys. "
        "Every change is an event on tasks.events.",
    )


def build_app(settings: Settings, **overrides: Any) -> FastAPI:
    service = build(settings, **overrides)
    app = create_app(service)
    app.state.console = build_console(service.runtime, service.uow)
    console.install(app)
    return app


def build_console(runtime: Runtime, uow: UnitOfWork, **overrides: Any) -> Console:
    """The staff console's parts: the unit of work (users, sessions, mail), the other services' staff APIs."""
    settings = uow.settings
    services = overrides.get("services") or StaffServices(settings)
    runtime.shutdown.append(services.aclose)
    limiter = overrides.get("limiter") or LoginFailures(
        runtime.db,
        settings.console_login_attempts,
        settings.console_login_window_seconds,
        settings.console_login_attempts_per_ip,
    )
    runtime.startup.append(limiter.ensure_indexes)
    return Console(uow=uow, services=services, settings=settings, queries=ConsoleQueries(runtime.db), limiter=limiter)
