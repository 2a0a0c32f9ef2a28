"""Wires the automation service: its unit of work (rules, webhooks and their sender, staff keys), routes,
consumers and the webhook delivery loop. `build(settings, store=FakeRules(), ...)` swaps adapters, as unit tests do."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from fastapi import FastAPI

from contracts.topics import AUTOMATION_EVENTS, TASKS_COMMANDS
from services.automation.adapters.mongo import RuleStore
from services.automation.adapters.webhook_sender import WebhookSender
from services.automation.adapters.webhook_store import WebhookStore
from services.automation.config import Settings
from services.automation.delivery import DeliveryLoop
from services.automation.entrypoints import api, subscribers, webhooks_api
from services.automation.unit_of_work import UnitOfWork
from services.runtime.app import build_runtime, create_app
from services.runtime.service import Adapters, Service


def _sender(settings: Settings) -> WebhookSender:
    return WebhookSender(
        settings.webhook_timeout_seconds,
        max_response_bytes=settings.webhook_max_response_bytes,
        allowed=settings.webhook_allowed_networks,
    )


def build(settings: Settings, **overrides: Any) -> Service[UnitOfWork]:
    runtime = build_runtime("automation", settings)
    adapter = Adapters(overrides)
    uow = UnitOfWork(
        settings=settings,
        outbox=adapter("outbox", lambda: runtime.outbox),
        store=adapter("store", lambda: RuleStore(runtime.db, settings.rule_run_retention_days)),
        staff_keys=adapter("staff_keys", lambda: runtime.staff_keys),
        webhooks=adapter("webhooks", lambda: WebhookStore(runtime.db)),
        sender=adapter("sender", lambda: _sender(settings)),
    )
    adapter.check()
    runtime.startup += [uow.store.ensure_indexes, uow.webhooks.ensure_indexes]
    runtime.background.append(
        DeliveryLoop(
            uow,
            poll_interval=settings.webhook_poll_seconds,
            lease=timedelta(seconds=settings.webhook_lease_seconds),
            concurrency=settings.webhook_concurrency,
            per_tenant=settings.webhook_tenant_concurrency,
        ).run
    )
    return Service(
        runtime,
        uow,
        title="Akkoord automation",
        routers=[api.router, webhooks_api.router],
        description="Rules as data: a trigger event, conditions, actions; every run recorded. "
        "Signed webhooks for the tenant's event subscriptions.",
        consumers=subscribers.consumers(uow),
        publishes=(TASKS_COMMANDS, AUTOMATION_EVENTS),
    )


def build_app(settings: Settings, **overrides: Any) -> FastAPI:
    return create_app(build(settings, **overrides))
