"""Webhook use cases: register endpoints; queue a delivery per subscribed event; deliver with retries."""

from __future__ import annotations

import asyncio
import json
import logging
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from contracts import Envelope, new_id, utcnow
from contracts.errors import Invalid, NotFound
from services.automation.adapters.webhook_sender import WebhookSender
from services.automation.adapters.webhook_store import WebhookStore
from services.automation.addresses import IPNetwork
from services.automation.webhooks import EndpointSpec, RetryPolicy, check_url, headers, new_secret, next_attempt
from services.runtime.mongo import Session

log = logging.getLogger(__name__)
LOST = "the attempt did not finish: the process ended during it, or could not record its outcome"


def _public(doc: dict) -> dict:
    out = {k: v for k, v in doc.items() if k not in ("_id", "secret")}
    return {"id": doc["_id"], **out}


@dataclass
class Webhooks:
    store: WebhookStore
    sender: WebhookSender
    policy: RetryPolicy
    allowed: tuple[IPNetwork, ...] = ()  # networks webhooks may reach besides public ones (development)
    poll_interval: float = 1.0
    lease: timedelta = timedelta(seconds=60)
    # Attempts run concurrently, at most `concurrency` in all and `per_tenant` for one tenant: a tenant
    # whose endpoint is slow fills its own slots, and the other tenants' deliveries go on beside it.
    concurrency: int = 16
    per_tenant: int = 2
    _in_flight: set[asyncio.Task] = field(default_factory=set, init=False, repr=False)
    _busy: Counter[str] = field(default_factory=Counter, init=False, repr=False)

    async def register(self, tenant_id: str, spec: EndpointSpec) -> dict:
        if why := check_url(spec.url, allowed=self.allowed):
            raise Invalid(why, errors=[{"field": "url", "message": why}])
        doc = {
            "_id": new_id(),
            "tenant_id": tenant_id,
            **spec.model_dump(),
            "secret": new_secret(),
            "created_at": utcnow(),
        }
        await self.store.add_endpoint(doc)
        return {**_public(doc), "secret": doc["secret"]}  # shown once

    async def get(self, tenant_id: str, endpoint_id: str) -> dict:
        doc = await self.store.endpoint(tenant_id, endpoint_id)
        if doc is None:
            raise NotFound(f"webhook endpoint {endpoint_id} not found")
        return doc

    async def list(self, tenant_id: str) -> list[dict]:
        return [_public(d) for d in await self.store.list_endpoints(tenant_id)]

    async def remove(self, tenant_id: str, endpoint_id: str) -> None:
        if not await self.store.remove_endpoint(tenant_id, endpoint_id):
            raise NotFound(f"webhook endpoint {endpoint_id} not found")

    async def deliveries(self, tenant_id: str, endpoint_id: str, limit: int) -> list[dict]:
        await self.get(tenant_id, endpoint_id)
        return [_public(d) for d in await self.store.deliveries_of(tenant_id, endpoint_id, limit)]

    async def subscribed(self, event: Envelope) -> bool:
        """Whether any endpoint of the tenant wants this event (most events have none to go to)."""
        return bool(await self.store.subscribed(event.tenant_id, event.type))

    async def fan_out(self, event: Envelope, session: Session) -> None:
        """Queue one delivery per enabled endpoint of the tenant subscribed to this event's type."""
        for endpoint in await self.store.subscribed(event.tenant_id, event.type, session):
            await self._queue(event, endpoint, session)

    async def call_for_rule(self, event: Envelope, endpoint_id: str, rule: dict, session: Session) -> str | None:
        """Queue a delivery of `event` on behalf of a rule; None when the endpoint is gone or disabled."""
        endpoint = await self.store.endpoint(event.tenant_id, endpoint_id, session)
        if endpoint is None or not endpoint.get("enabled", True):
            return None
        return await self._queue(event, endpoint, session, rule)

    async def _queue(self, event: Envelope, endpoint: dict, session: Session, rule: dict | None = None) -> str:
        content = {
            "type": event.type,
            "timestamp": event.occurred_at.isoformat(),
            "data": event.model_dump(mode="json"),
        }
        if rule:
            content["rule"] = rule
        # The webhook id stays the same over retries (and replays), so receivers can drop duplicates.
        delivery_id = f"msg_{endpoint['_id']}_{event.event_id}" + (f"_{rule['id']}" if rule else "")
        now = utcnow()
        await self.store.enqueue(
            {
                "_id": delivery_id,
                "tenant_id": event.tenant_id,
                "endpoint_id": endpoint["_id"],
                "event_id": event.event_id,
                "event_type": event.type,
                "rule_id": rule["id"] if rule else None,
                "body": json.dumps(content, separators=(",", ":")),
                "status": "pending",
                "attempts": [],
                "attempt_count": 0,
                "created_at": now,
                "next_attempt_at": now,
                "finished_at": None,
            },
            session,
        )
        return delivery_id

    async def deliver_due(self) -> int:
        """Start an attempt for every delivery that is due, within the bounds; the number started."""
        started = 0
        while len(self._in_flight) < self.concurrency:
            full = [tenant for tenant, n in self._busy.items() if n >= self.per_tenant]
            delivery = await self.store.claim_due(utcnow(), self.lease, skip_tenants=full)
            if delivery is None:
                break
            self._start(delivery)
            started += 1
        return started

    def _start(self, delivery: dict) -> None:
        tenant = delivery["tenant_id"]
        self._busy[tenant] += 1
        task = asyncio.create_task(self._attempt_logged(delivery), name=f"webhook {delivery['_id']}")
        self._in_flight.add(task)

        def done(_: asyncio.Task) -> None:
            self._in_flight.discard(task)
            self._busy[tenant] -= 1
            if not self._busy[tenant]:
                del self._busy[tenant]

        task.add_done_callback(done)

    async def _attempt_logged(self, delivery: dict) -> None:
        try:
            await self._attempt(delivery)
        except Exception as exc:  # database away: the lease runs out, and the next claim counts it as failed
            log.warning("webhook delivery %s not recorded: %s", delivery["_id"], exc)

    async def drain(self) -> None:
        """Wait for the attempts in flight."""
        while self._in_flight:
            await asyncio.gather(*self._in_flight, return_exceptions=True)

    async def _attempt(self, delivery: dict) -> None:
        if (lost := delivery.get("unfinished_since")) is not None:
            await self._record_lost(delivery, lost)
            return
        endpoint = await self.store.endpoint(delivery["tenant_id"], delivery["endpoint_id"])
        now = utcnow()
        if endpoint is None or not endpoint.get("enabled", True):
            await self.store.record_attempt(
                delivery["_id"],
                {"at": now, "error": "endpoint removed or disabled"},
                status="failed",
                next_attempt_at=None,
                finished_at=now,
            )
            return
        body = delivery["body"].encode()
        status, error = await self.sender.post(
            endpoint["url"], body, headers(endpoint["secret"], delivery["_id"], int(now.timestamp()), body)
        )
        attempt = {"at": now, "status_code": status, "error": error}
        if status is not None and 200 <= status < 300:
            await self.store.record_attempt(
                delivery["_id"], attempt, status="delivered", next_attempt_at=None, finished_at=utcnow()
            )
            return
        retry_at = next_attempt(self.policy, delivery["created_at"], delivery["attempt_count"], utcnow())
        await self.store.record_attempt(
            delivery["_id"],
            attempt,
            status="pending" if retry_at else "failed",
            next_attempt_at=retry_at,
            finished_at=None if retry_at else utcnow(),
        )

    async def _record_lost(self, delivery: dict, started_at: datetime) -> None:
        """The previous attempt was counted when claimed but never recorded: the process ended during it (or
        lost the database). It failed like any other, and the schedule says when to try again, if at all; this
        claim sends nothing, so a delivery whose attempts kill the process is given up in time."""
        now = utcnow()
        retry_at = next_attempt(self.policy, delivery["created_at"], delivery["attempt_count"] - 1, now)
        log.warning("webhook delivery %s: the attempt started at %s did not finish", delivery["_id"], started_at)
        await self.store.record_attempt(
            delivery["_id"],
            {"at": started_at, "error": LOST},
            status="pending" if retry_at else "failed",
            next_attempt_at=retry_at,
            finished_at=None if retry_at else now,
            sent=False,
        )

    async def run(self) -> None:
        """The delivery loop (a background job of the service): claims what is due whenever a slot is free."""
        try:
            while True:
                try:
                    await self.deliver_due()
                except asyncio.CancelledError:
                    raise
                except Exception as exc:  # database away: deliveries wait, none are lost
                    log.warning("webhook delivery paused: %s", exc)
                # Look again after the poll interval, or as soon as an attempt ends and frees a slot.
                pause = asyncio.create_task(asyncio.sleep(self.poll_interval))
                try:
                    await asyncio.wait([*self._in_flight, pause], return_when=asyncio.FIRST_COMPLETED)
                finally:
                    pause.cancel()
        finally:
            for task in self._in_flight:
                task.cancel()
            await asyncio.gather(*self._in_flight, return_exceptions=True)
