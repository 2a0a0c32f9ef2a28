"""Wires the tasks service: runtime, repository, use-case deps, routers, consumers and the expiry job."""

from __future__ import annotations

from datetime import timedelta
from functools import partial

from fastapi import FastAPI

from services.runtime.app import Runtime, build_runtime, create_app
from services.tasks.adapters.idempotency import IdempotencyRecords
from services.tasks.adapters.mongo import TasksStore
from services.tasks.config import Settings
from services.tasks.entrypoints.api import ROUTERS
from services.tasks.entrypoints.subscribers import consumers
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
    return app
