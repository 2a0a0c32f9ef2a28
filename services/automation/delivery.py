"""Webhook use cases: register endpoints; queue a delivery per subscribed event; deliver with retries."""

from __future__ import annotations

import asyncio
import json
import logging
from dataclasses import dataclass
from datetime import timedelta

from contracts import Envelope, new_id, utcnow
from contracts.errors import Invalid, NotFound
from services.automation.adapters.webhook_sender import WebhookSender
from services.automation.adapters.webhook_store import WebhookStore
from services.automation.webhooks import EndpointSpec, RetryPolicy, check_url, headers, new_secret, next_attempt
from services.runtime.mongo import Session

log = logging.getLogger(__name__)


def _public(doc: dict) -> dict:
    out = {k: v for k, v in doc.items() if k not in ("_id", "secret")}
    return {"id": doc["_id"], **out}


@dataclass
class Webhooks:
    store: WebhookStore
    sender: WebhookSender
    policy: RetryPolicy
    allow_plain_http_loopback: bool
    poll_interval: float = 1.0
    lease: timedelta = timedelta(seconds=60)

    async def register(self, tenant_id: str, spec: EndpointSpec) -> dict:
        if why := check_url(spec.url, allow_plain_http_loopback=self.allow_plain_http_loopback):
            raise Invalid(why, errors=[{"field": "url", "message": why}])
        doc = {"_id": new_id(), "tenant_id": tenant_id, **spec.model_dump(), "secret": new_secret(),
               "created_at": utcnow()}
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
        content = {"type": event.type, "timestamp": event.occurred_at.isoformat(), "data": event.model_dump(mode="json")}
        if rule:
            content["rule"] = rule
        # The webhook id stays the same over retries (and replays), so receivers can drop duplicates.
        delivery_id = f"msg_{endpoint['_id']}_{event.event_id}" + (f"_{rule['id']}" if rule else "")
        now = utcnow()
        await self.store.enqueue({
            "_id": delivery_id, "tenant_id": event.tenant_id, "endpoint_id": endpoint["_id"],
            "event_id": event.event_id, "event_type": event.type, "rule_id": rule["id"] if rule else None,
            "body": json.dumps(content, separators=(",", ":")), "status": "pending", "attempts": [],
            "attempt_count": 0, "created_at": now, "next_attempt_at": now, "finished_at": None}, session)
        return delivery_id

    async def deliver_due(self) -> int:
        """Attempt every delivery that is due; the number attempted."""
        done = 0
        while (delivery := await self.store.claim_due(utcnow(), self.lease)) is not None:
            await self._attempt(delivery)
            done += 1
        return done

    async def _attempt(self, delivery: dict) -> None:
        endpoint = await self.store.endpoint(delivery["tenant_id"], delivery["endpoint_id"])
        now = utcnow()
        if endpoint is None or not endpoint.get("enabled", True):
            await self.store.record_attempt(delivery["_id"], {"at": now, "error": "endpoint removed or disabled"},
                                            status="failed", next_attempt_at=None, finished_at=now)
            return
        body = delivery["body"].encode()
        status, error = await self.sender.post(endpoint["url"], body,
                                               headers(endpoint["secret"], delivery["_id"], int(now.timestamp()), body))
        attempt = {"at": now, "status_code": status, "error": error}
        if status is not None and 200 <= status < 300:
            await self.store.record_attempt(delivery["_id"], attempt, status="delivered", next_attempt_at=None,
                                            finished_at=utcnow())
            return
        retry_at = next_attempt(self.policy, delivery["created_at"], delivery.get("attempt_count", 0) + 1, utcnow())
        await self.store.record_attempt(delivery["_id"], attempt, status="pending" if retry_at else "failed",
                                        next_attempt_at=retry_at, finished_at=None if retry_at else utcnow())

    async def run(self) -> None:
        """The delivery loop (a background job of the service)."""
        while True:
            try:
                attempted = await self.deliver_due()
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # database away: deliveries wait, none are lost
                log.warning("webhook delivery paused: %s", exc)
                attempted = 0
            if not attempted:
                await asyncio.sleep(self.poll_interval)
