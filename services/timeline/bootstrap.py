"""Wires the timeline service: runtime, store, handlers, routes and consumers."""

from __future__ import annotations

from fastapi import FastAPI

from services.runtime.app import Runtime, build_runtime, create_app
from services.runtime.internal_http import InternalFetcher
from services.timeline.adapters.mongo import TimelineStore
from services.timeline.adapters.signing_anchors import SigningAnchors
from services.timeline.config import Settings
from services.timeline.entrypoints import api, subscribers
from services.timeline.handlers import Timeline


def build_timeline(settings: Settings) -> tuple[Runtime, Timeline]:
    runtime = build_runtime("timeline", settings)
    store = TimelineStore(runtime.db)
    runtime.startup.append(store.ensure_indexes)
    fetcher = InternalFetcher(settings.internal_token, 5.0, settings.service_hosts)
    runtime.shutdown.append(fetcher.aclose)
    anchors = SigningAnchors(fetcher, settings.signing_url)
    return runtime, Timeline(store, runtime.outbox, anchors=anchors)


def build_app(settings: Settings) -> FastAPI:
    runtime, timeline = build_timeline(settings)
    app = create_app(runtime, title="Akkoord timeline",
                     description="Two timelines per task: staff (full evidence) and portal (what the customer may see).",
                     routers=[api.staff, api.internal],
                     consumers=subscribers.consumers(timeline, runtime.staff_keys))
    app.state.timeline = timeline
    return app
