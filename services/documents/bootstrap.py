"""Wires the documents service: its unit of work (store, signature fetcher, staff keys), routes and consumers.
`build(settings, store=FakeStore(), ...)` swaps adapters, as unit tests do."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI

from contracts.topics import DOCUMENTS_EVENTS
from services.documents.adapters.mongo import DocumentStore
from services.documents.config import Settings
from services.documents.entrypoints import api, internal, subscribers
from services.documents.unit_of_work import UnitOfWork
from services.runtime.app import build_runtime, create_app
from services.runtime.internal_http import InternalFetcher
from services.runtime.service import Adapters, Service


def build(settings: Settings, **overrides: Any) -> Service[UnitOfWork]:
    runtime = build_runtime("documents", settings)
    adapter = Adapters(overrides)
    uow = UnitOfWork(
        settings=settings,
        outbox=adapter("outbox", lambda: runtime.outbox),
        store=adapter("store", lambda: DocumentStore(runtime.db)),
        staff_keys=adapter("staff_keys", lambda: runtime.staff_keys),
        tenants=adapter("tenants", lambda: runtime.staff_keys),
        signatures=adapter(
            "signatures",
            lambda: InternalFetcher(settings.internal_token, settings.fetch_timeout_seconds, settings.service_hosts),
        ),
    )
    adapter.check()
    runtime.startup.append(uow.store.ensure_indexes)
    runtime.shutdown.append(uow.signatures.aclose)
    return Service(
        runtime,
        uow,
        title="Akkoord documents",
        routers=[api.router, internal.router],
        description="Standalone PDFs, their versions, placeholder tags, stamping and previews.",
        consumers=subscribers.consumers(uow),
        publishes=(DOCUMENTS_EVENTS,),
    )


def build_app(settings: Settings, **overrides: Any) -> FastAPI:
    return create_app(build(settings, **overrides))
