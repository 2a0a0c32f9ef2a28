"""Wires the timeline service: its unit of work (store, staff keys, signing's anchors), routes and consumers.
`build(settings, store=FakeStore(), ...)` swaps adapters, as unit tests do."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI

from contracts.topics import TIMELINE_CHAIN
from services.runtime.app import Runtime, build_runtime, create_app
from services.runtime.internal_http import InternalFetcher
from services.runtime.service import Adapters, Service
from services.timeline.adapters.mongo import TimelineStore
from services.timeline.adapters.signing_anchors import SigningAnchors
from services.timeline.config import Settings
from services.timeline.entrypoints import api, subscribers
from services.timeline.unit_of_work import UnitOfWork


def _signing_anchors(settings: Settings, runtime: Runtime) -> SigningAnchors:
    fetcher = InternalFetcher(settings.internal_token, 5.0, settings.service_hosts)
    runtime.shutdown.append(fetcher.aclose)
    return SigningAnchors(fetcher, settings.signing_url)


def build(settings: Settings, **overrides: Any) -> Service[UnitOfWork]:
    runtime = build_runtime("timeline", settings)
    adapter = Adapters(overrides)
    uow = UnitOfWork(
        outbox=adapter("outbox", lambda: runtime.outbox),
        store=adapter("store", lambda: TimelineStore(runtime.db)),
        staff_keys=adapter("staff_keys", lambda: runtime.staff_keys),
        anchors=adapter("anchors", lambda: _signing_anchors(settings, runtime)),
    )
    adapter.check()
    runtime.startup.append(uow.store.ensure_indexes)
    return Service(
        runtime,
        uow,
        title="Akkoord timeline",
        routers=[api.staff, api.internal],
        description="Two timelines per task: staff (full evidence) and portal (what the customer may see).",
        consumers=subscribers.consumers(uow),
        publishes=(TIMELINE_CHAIN,),
    )


def build_app(settings: Settings, **overrides: Any) -> FastAPI:
    return create_app(build(settings, **overrides))
