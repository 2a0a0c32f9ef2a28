"""Wires the signing service: runtime, stores, seal key, handlers, routes and consumers."""

from __future__ import annotations

from fastapi import FastAPI

from services.runtime.app import build_runtime, create_app
from services.runtime.internal_http import InternalFetcher
from services.signing.adapters.keys import SealKeys
from services.signing.adapters.mongo import EvidenceStore
from services.signing.adapters.verify_pool import VerifyPool
from services.signing.config import Settings
from services.signing.entrypoints import api, internal, public, subscribers
from services.signing.entrypoints.verify_guard import ClientRate
from services.signing.handlers import SigningHandlers


def build_app(settings: Settings) -> FastAPI:
    runtime = build_runtime("signing", settings)
    store = EvidenceStore(runtime.db)
    keys = SealKeys(runtime.db, settings)
    runtime.startup.append(store.ensure_indexes)
    fetcher = InternalFetcher(settings.internal_token, settings.fetch_timeout_seconds, settings.service_hosts)
    runtime.shutdown.append(fetcher.aclose)
    verifier = VerifyPool(settings.verify_workers, settings.verify_timeout_seconds, settings.verify_queue)
    runtime.startup.append(verifier.warm)
    runtime.shutdown.append(verifier.close)
    handlers = SigningHandlers(settings=settings, store=store, outbox=runtime.outbox, keys=keys, fetcher=fetcher,
                               tracking=runtime.tracking, verifier=verifier, tenants=runtime.staff_keys)
    runtime.every(settings.hold_check_seconds, handlers.give_up_overdue_stamps, "held-stamps")
    # The key (and the sealer built around it) loads before the broker starts, so no message is
    # handled without it.
    runtime.startup.append(handlers.load_seal_key)
    app = create_app(runtime, title="Akkoord signing",
                     description="Evidence of signings, sealed approval certificates and documents, verification.",
                     routers=[api.router, public.router, internal.router],
                     consumers=subscribers.consumers(handlers, runtime.staff_keys.projection("signing")))
    app.state.signing = handlers
    app.state.verify_rate = ClientRate(settings.verify_rate)
    return app
