"""Wires the signing service: its unit of work (evidence store, seal keys, fetcher, verify pool, staff keys),
routes, consumers and the watch on held stamps. `build(settings, store=FakeStore(), ...)` swaps adapters, as unit
tests do."""

from __future__ import annotations

from functools import partial
from typing import Any

from fastapi import FastAPI

from contracts.topics import SIGNING_EVENTS
from services.runtime.app import build_runtime, create_app
from services.runtime.internal_http import InternalFetcher
from services.runtime.service import Adapters, Service
from services.signing import handlers
from services.signing.adapters.keys import SealKeys
from services.signing.adapters.mongo import EvidenceStore
from services.signing.adapters.verify_pool import VerifyPool
from services.signing.config import Settings
from services.signing.entrypoints import api, internal, public, subscribers
from services.signing.entrypoints.verify_guard import ClientRate
from services.signing.unit_of_work import UnitOfWork


def build(settings: Settings, **overrides: Any) -> Service[UnitOfWork]:
    runtime = build_runtime("signing", settings)
    adapter = Adapters(overrides)
    uow = UnitOfWork(
        settings=settings,
        outbox=adapter("outbox", lambda: runtime.outbox),
        tracking=adapter("tracking", lambda: runtime.tracking),
        store=adapter("store", lambda: EvidenceStore(runtime.db)),
        staff_keys=adapter("staff_keys", lambda: runtime.staff_keys),
        tenants=adapter("tenants", lambda: runtime.staff_keys),
        keys=adapter("keys", lambda: SealKeys(runtime.db, settings)),
        fetcher=adapter(
            "fetcher",
            lambda: InternalFetcher(settings.internal_token, settings.fetch_timeout_seconds, settings.service_hosts),
        ),
        verifier=adapter(
            "verifier",
            lambda: VerifyPool(settings.verify_workers, settings.verify_timeout_seconds, settings.verify_queue),
        ),
        verify_rate=adapter("verify_rate", lambda: ClientRate(settings.verify_rate)),
        sealer=adapter("sealer", lambda: None),  # built around the seal key at startup (load_seal_key)
    )
    adapter.check()
    runtime.startup.append(uow.store.ensure_indexes)
    runtime.shutdown.append(uow.fetcher.aclose)
    runtime.startup.append(uow.verifier.warm)
    runtime.shutdown.append(uow.verifier.close)
    runtime.every(settings.hold_check_seconds, partial(handlers.give_up_overdue_stamps, uow), "held-stamps")
    # The key (and the sealer built around it) loads before the broker starts, so no message is
    # handled without it.
    runtime.startup.append(partial(handlers.load_seal_key, uow))
    return Service(
        runtime,
        uow,
        title="Akkoord signing",
        routers=[api.router, public.router, internal.router],
        description="Evidence of signings, sealed approval certificates and documents, verification.",
        consumers=subscribers.consumers(uow),
        publishes=(SIGNING_EVENTS,),
    )


def build_app(settings: Settings, **overrides: Any) -> FastAPI:
    return create_app(build(settings, **overrides))
