"""Wires the automation service: runtime, stores, handlers, routes, consumers and the webhook sender."""

from __future__ import annotations

from fastapi import FastAPI

from services.automation.adapters.mongo import RuleStore
from services.automation.adapters.webhook_sender import WebhookSender
from services.automation.adapters.webhook_store import WebhookStore
from services.automation.config import Settings
from services.automation.delivery import Webhooks
from services.automation.entrypoints import api, subscribers, webhooks_api
from services.automation.handlers import Automation, Rules
from services.automation.webhooks import RetryPolicy
from services.runtime.app import build_runtime, create_app


def build_webhooks(settings: Settings, store: WebhookStore) -> Webhooks:
    policy = RetryPolicy(base_seconds=settings.webhook_retry_base_seconds,
                         max_delay_seconds=settings.webhook_max_delay_seconds,
                         give_up_after_seconds=settings.webhook_give_up_after_seconds)
    allowed = settings.webhook_allowed_networks
    sender = WebhookSender(settings.webhook_timeout_seconds, max_response_bytes=settings.webhook_max_response_bytes,
                           allowed=allowed)
    return Webhooks(store, sender, policy, allowed=allowed, poll_interval=settings.webhook_poll_seconds,
                    concurrency=settings.webhook_concurrency, per_tenant=settings.webhook_tenant_concurrency)


def build_app(settings: Settings) -> FastAPI:
    runtime = build_runtime("automation", settings)
    rules, hooks = RuleStore(runtime.db, settings.rule_run_retention_days), WebhookStore(runtime.db)
    webhooks = build_webhooks(settings, hooks)
    runtime.startup += [rules.ensure_indexes, hooks.ensure_indexes]
    runtime.background.append(webhooks.run)
    app = create_app(runtime, title="Akkoord automation",
                     description="Rules as data: a trigger event, conditions, actions; every run recorded. "
                                 "Signed webhooks for the tenant's event subscriptions.",
                     routers=[api.router, webhooks_api.router],
                     consumers=subscribers.consumers(Automation(rules, runtime.outbox, webhooks), webhooks,
                                                     runtime.staff_keys))
    app.state.rules = Rules(rules, webhooks)
    app.state.webhooks = webhooks
    return app
