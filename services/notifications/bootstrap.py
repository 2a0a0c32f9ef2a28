"""Wires the notifications service: runtime, store, consumers, the sender loop and the staff API.

`build(settings, **adapter_overrides)` makes the service (a test may pass its own sender); `build_app`
serves it, the service kept on `app.state.service`."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from fastapi import FastAPI

from services.notifications.adapters.mongo import NotificationStore
from services.notifications.config import Settings
from services.notifications.delivery import Delivery, Links, Proofs
from services.notifications.domain import RetryPolicy
from services.runtime.app import Runtime, build_runtime, create_app
from services.runtime.internal_http import InternalFetcher
from services.runtime.mail import SmtpSender, SmtpTarget


@dataclass
class Service:
    settings: Settings
    runtime: Runtime
    store: NotificationStore
    delivery: Delivery


def build(settings: Settings, *, sender: SmtpSender | None = None) -> Service:
    runtime = build_runtime("notifications", settings)
    store = NotificationStore(runtime.db)
    sender = sender or SmtpSender(SmtpTarget.parse(settings.mail_url), settings.mail_from,
                                  timeout=settings.smtp_timeout_seconds)
    delivery = Delivery(
        store, sender,
        Links(settings.portal_url, settings.portal_link_secret, timedelta(minutes=settings.link_ttl_minutes),
              settings.console_task_url),
        RetryPolicy(base_seconds=settings.retry_base_seconds, max_delay_seconds=settings.retry_max_delay_seconds,
                    give_up_after_seconds=settings.give_up_after_seconds),
        proofs=Proofs(InternalFetcher(settings.internal_token, settings.fetch_timeout_seconds, settings.service_hosts),
                      settings.attach_proof_max_bytes),
        poll_interval=settings.poll_seconds)
    runtime.startup.append(store.ensure_indexes)
    runtime.background.append(delivery.run)
    return Service(settings, runtime, store, delivery)


def build_app(settings: Settings, **adapter_overrides) -> FastAPI:
    from services.notifications.entrypoints import api, subscribers

    service = build(settings, **adapter_overrides)
    app = create_app(service.runtime, title="Akkoord notifications",
                     description="Mails to the contact (request, reminder, expiry, withdrawal, proof) and to staff "
                                 "(signed, declined, expired), decided from the events and delivered with retries.",
                     routers=[api.router], consumers=subscribers.consumers(service.store, service.runtime.staff_keys))
    app.state.service = service
    return app
