"""Wires the documents service: runtime, store, handlers, routes and consumers."""

from __future__ import annotations

from fastapi import FastAPI

from services.documents.adapters.mongo import DocumentStore
from services.documents.config import Settings
from services.documents.entrypoints import api, internal, subscribers
from services.documents.handlers import DocumentHandlers
from services.runtime.app import build_runtime, create_app
from services.runtime.internal_http import InternalFetcher


def build_app(settings: Settings) -> FastAPI:
    runtime = build_runtime("documents", settings)
    store = DocumentStore(runtime.db)
    runtime.startup.append(store.ensure_indexes)
    fetcher = InternalFetcher(settings.internal_token, settings.fetch_timeout_seconds, settings.service_hosts)
    runtime.shutdown.append(fetcher.aclose)
    handlers = DocumentHandlers(settings=settings, store=store, outbox=runtime.outbox, signatures=fetcher,
                                tenants=runtime.staff_keys)
    app = create_app(runtime, title="Akkoord documents",
                     description="Standalone PDFs, their versions, placeholder tags, stamping and previews.",
                     routers=[api.router, internal.router],
                     consumers=subscribers.consumers(handlers, runtime.staff_keys.projection("documents")))
    app.state.documents = handlers
    return app
