"""Wires the tasks service: runtime, repository, use-case deps, routers, consumers and the expiry job."""

from __future__ import annotations

from datetime import timedelta
from functools import partial

from fastapi import FastAPI

from services.runtime.app import Runtime, build_runtime, create_app
from services.runtime.mail import SmtpSender
from services.tasks.adapters.accounts import AccountsStore
from services.tasks.adapters.console_queries import ConsoleQueries
from services.tasks.adapters.idempotency import IdempotencyRecords
from services.tasks.adapters.mail import SmtpMailer
from services.tasks.adapters.mongo import TasksStore
from services.tasks.adapters.staff_services import StaffServices
from services.tasks.config import Settings
from services.tasks.entrypoints import console
from services.tasks.entrypoints.api import ROUTERS
from services.tasks.entrypoints.console.deps import Console
from services.tasks.entrypoints.console.limits import LoginLimiter
from services.tasks.entrypoints.subscribers import consumers
from services.tasks.handlers.accounts import Accounts
from services.tasks.handlers.schedule import action_schedule_pass
from services.tasks.handlers.unit_of_work import Deps


def build(settings: Settings) -> tuple[Runtime, Deps]:
    runtime = build_runtime("tasks", settings)
    idempotency = IdempotencyRecords(runtime.db, timedelta(hours=settings.idempotency_retention_hours))
    deps = Deps(store=TasksStore(runtime.db), outbox=runtime.outbox, staff_keys=runtime.staff_keys,
                idempotency=idempotency, settings=settings)
    runtime.startup += [deps.store.ensure_indexes, deps.idempotency.ensure_indexes]
    return runtime, deps


def build_app(settings: Settings) -> FastAPI:
    runtime, deps = build(settings)
    runtime.every(settings.expiry_interval_seconds, partial(action_schedule_pass, deps), "action-schedule")
    app = create_app(runtime, title="Akkoord tasks — staff API", routers=ROUTERS, consumers=consumers(deps),
                     description="Contacts, tasks, phases and signature requests for staff; tenants and API "
                                 "keys. Every change is an event on tasks.events.")
    app.state.deps = deps
    app.state.console = build_console(runtime, deps)
    console.install(app)
    return app


def build_console(runtime: Runtime, deps: Deps, **overrides) -> Console:
    """The staff console's parts: accounts (users, sessions), mail, the other services' staff APIs."""
    settings = deps.settings
    accounts = Accounts(deps=deps, store=AccountsStore(runtime.db), mailer=overrides.get("mailer") or SmtpMailer(
        SmtpSender.from_settings(settings)))
    services = overrides.get("services") or StaffServices(settings)
    runtime.startup.append(accounts.store.ensure_indexes)
    runtime.shutdown.append(services.aclose)
    return Console(accounts=accounts, services=services, settings=settings, queries=ConsoleQueries(runtime.db),
                   limiter=LoginLimiter(settings.console_login_attempts, settings.console_login_window_seconds,
                                           settings.console_login_attempts_per_ip))
