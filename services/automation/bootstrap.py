"""Wires the automation service: runtime, rule store, handlers, routes and consumers."""

from __future__ import annotations

from fastapi import FastAPI

from services.automation.adapters.mongo import RuleStore
from services.automation.config import Settings
from services.automation.entrypoints import api, subscribers
from services.automation.handlers import Automation, Rules
from services.runtime.app import build_runtime, create_app


def build_app(settings: Settings) -> FastAPI:
    runtime = build_runtime("automation", settings)
    store = RuleStore(runtime.db)
    runtime.startup.append(store.ensure_indexes)
    app = create_app(runtime, title="Akkoord automation",
                     description="Rules as data: a trigger event, conditions, actions; every run recorded.",
                     routers=[api.router],
                     consumers=subscribers.consumers(Automation(store, runtime.outbox), runtime.staff_keys))
    app.state.rules = Rules(store)
    return app
