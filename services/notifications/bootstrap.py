"""Wires the notifications service: its unit of work (store, staff keys, mail sender, links, proofs, retry
policy, clock), consumers, the staff API and the sender loop. `build(settings, sender=FakeSender(), ...)` swaps
adapters, as tests do."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from fastapi import FastAPI

from contracts import utcnow
from services.notifications.adapters.links import Links
from services.notifications.adapters.mongo import NotificationStore
from services.notifications.adapters.proofs import Proofs
from services.notifications.config import Settings
from services.notifications.delivery import DeliveryLoop
from services.notifications.domain import RetryPolicy
from services.notifications.entrypoints import api, subscribers
from services.notifications.unit_of_work import UnitOfWork
from services.runtime.app import build_runtime, create_app
from services.runtime.internal_http import InternalFetcher
from services.runtime.mail import SmtpSender
from services.runtime.service import Adapters, Service


def build(settings: Settings, **overrides: Any) -> Service[UnitOfWork]:
    runtime = build_runtime("notifications", settings)
    adapter = Adapters(overrides)
    uow = UnitOfWork(
        settings=settings,
        outbox=adapter("outbox", lambda: runtime.outbox),
        store=adapter("store", lambda: NotificationStore(runtime.db)),
        staff_keys=adapter("staff_keys", lambda: runtime.staff_keys),
        sender=adapter("sender", lambda: SmtpSender.from_settings(settings, timeout=settings.smtp_timeout_seconds)),
        links=adapter(
            "links",
            lambda: Links(
                settings.portal_url,
                settings.portal_link_secret,
                timedelta(minutes=settings.link_ttl_minutes),
                settings.console_task_url,
            ),
        ),
        proofs=adapter(
            "proofs",
            lambda: Proofs(
                InternalFetcher(settings.internal_token, settings.fetch_timeout_seconds, settings.service_hosts),
                settings.attach_proof_max_bytes,
            ),
        ),
        policy=adapter(
            "policy",
            lambda: RetryPolicy(
                base_seconds=settings.retry_base_seconds,
                max_delay_seconds=settings.retry_max_delay_seconds,
                give_up_after_seconds=settings.give_up_after_seconds,
            ),
        ),
        clock=adapter("clock", lambda: utcnow),
    )
    adapter.check()
    runtime.startup.append(uow.store.ensure_indexes)
    runtime.background.append(
        DeliveryLoop(uow, poll_interval=settings.poll_seconds, lease=timedelta(seconds=settings.lease_seconds)).run
    )
    return Service(
        runtime,
        uow,
        title="Akkoord notifications",
        description="Mails to the contact (request, reminder, expiry, withdrawal, proof) and to staff "
        "(signed, declined, expired), decided from the events and delivered with retries.",
        routers=[api.router],
        consumers=subscribers.consumers(uow),
    )


def build_app(settings: Settings, **overrides: Any) -> FastAPI:
    return create_app(build(settings, **overrides))
