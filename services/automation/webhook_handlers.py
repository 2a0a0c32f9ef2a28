"""Webhook use cases: register endpoints; queue a delivery per subscribed event, or for a rule; make one attempt."""

from __future__ import annotations

import json
import logging
from datetime import datetime

from contracts import Envelope, new_id, utcnow
from contracts.errors import Invalid, NotFound
from services.automation.unit_of_work import UnitOfWork
from services.automation.webhooks import EndpointSpec, RetryPolicy, check_url, headers, new_secret, next_attempt

log = logging.getLogger(__name__)
LOST = "the attempt did not finish: the process ended during it, or could not record its outcome"


def _public(doc: dict) -> dict:
    out = {k: v for k, v in doc.items() if k not in ("_id", "secret")}
    return {"id": doc["_id"], **out}


def _policy(uow: UnitOfWork) -> RetryPolicy:
    s = uow.settings
    return RetryPolicy(
        base_seconds=s.webhook_retry_base_seconds,
        max_delay_seconds=s.webhook_max_delay_seconds,
        give_up_after_seconds=s.webhook_give_up_after_seconds,
    )


async def register_endpoint(uow: UnitOfWork, tenant_id: str, spec: EndpointSpec) -> dict:
    if why := check_url(spec.url, allowed=uow.settings.webhook_allowed_networks):
        raise Invalid(why, errors=[{"field": "url", "message": why}])
    doc = {"_id": new_id(), "tenant_id": tenant_id, **spec.model_dump(), "secret": new_secret(), "created_at": utcnow()}
    await uow.webhooks.add_endpoint(doc)
    return {**_public(doc), "secret": doc["secret"]}  # shown once


async def get_endpoint(uow: UnitOfWork, tenant_id: str, endpoint_id: str) -> dict:
    doc = await uow.webhooks.endpoint(tenant_id, endpoint_id)
    if doc is None:
        raise NotFound(f"webhook endpoint {endpoint_id} not found")
    return doc


async def list_endpoints(uow: UnitOfWork, tenant_id: str) -> list[dict]:
    return [_public(d) for d in await uow.webhooks.list_endpoints(tenant_id)]


async def remove_endpoint(uow: UnitOfWork, tenant_id: str, endpoint_id: str) -> None:
    if not await uow.webhooks.remove_endpoint(tenant_id, endpoint_id):
        raise NotFound(f"webhook endpoint {endpoint_id} not found")


async def deliveries_of(uow: UnitOfWork, tenant_id: str, endpoint_id: str, limit: int) -> list[dict]:
    await get_endpoint(uow, tenant_id, endpoint_id)
    return [_public(d) for d in await uow.webhooks.deliveries_of(tenant_id, endpoint_id, limit)]


async def subscribed(event: Envelope, uow: UnitOfWork) -> bool:
    """Whether any endpoint of the tenant wants this event (most events have none to go to)."""
    return bool(await uow.webhooks.subscribed(event.tenant_id, event.type))


async def fan_out(event: Envelope, uow: UnitOfWork) -> None:
    """Queue a signed webhook delivery for each enabled endpoint subscribed to the event's type."""
    for endpoint in await uow.webhooks.subscribed(event.tenant_id, event.type, uow.tx):
        await _queue(uow, event, endpoint)


async def call_for_rule(uow: UnitOfWork, event: Envelope, endpoint_id: str, rule: dict) -> str | None:
    """Queue a delivery of `event` on behalf of a rule; None when the endpoint is gone or disabled."""
    endpoint = await uow.webhooks.endpoint(event.tenant_id, endpoint_id, uow.tx)
    if endpoint is None or not endpoint.get("enabled", True):
        return None
    return await _queue(uow, event, endpoint, rule)


async def _queue(uow: UnitOfWork, event: Envelope, endpoint: dict, rule: dict | None = None) -> str:
    content = {"type": event.type, "timestamp": event.occurred_at.isoformat(), "data": event.model_dump(mode="json")}
    if rule:
        content["rule"] = rule
    # The webhook id stays the same over retries (and replays), so receivers can drop duplicates.
    delivery_id = f"msg_{endpoint['_id']}_{event.event_id}" + (f"_{rule['id']}" if rule else "")
    now = utcnow()
    await uow.webhooks.enqueue(
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
        uow.tx,
    )
    return delivery_id


async def attempt(delivery: dict, uow: UnitOfWork) -> None:
    """One attempt at a claimed delivery (counted when it was claimed), and its outcome recorded."""
    if (lost := delivery.get("unfinished_since")) is not None:
        await _record_lost(delivery, lost, uow)
        return
    endpoint = await uow.webhooks.endpoint(delivery["tenant_id"], delivery["endpoint_id"])
    now = utcnow()
    if endpoint is None or not endpoint.get("enabled", True):
        await uow.webhooks.record_attempt(
            delivery["_id"],
            {"at": now, "error": "endpoint removed or disabled"},
            status="failed",
            next_attempt_at=None,
            finished_at=now,
        )
        return
    body = delivery["body"].encode()
    status, error = await uow.sender.post(
        endpoint["url"], body, headers(endpoint["secret"], delivery["_id"], int(now.timestamp()), body)
    )
    outcome = {"at": now, "status_code": status, "error": error}
    if status is not None and 200 <= status < 300:
        await uow.webhooks.record_attempt(
            delivery["_id"], outcome, status="delivered", next_attempt_at=None, finished_at=utcnow()
        )
        return
    retry_at = next_attempt(_policy(uow), delivery["created_at"], delivery["attempt_count"], utcnow())
    await uow.webhooks.record_attempt(
        delivery["_id"],
        outcome,
        status="pending" if retry_at else "failed",
        next_attempt_at=retry_at,
        finished_at=None if retry_at else utcnow(),
    )


async def _record_lost(delivery: dict, started_at: datetime, uow: UnitOfWork) -> None:
    """The previous attempt was counted when claimed but never recorded: the process ended during it (or lost
    the database). It failed like any other, and the schedule says when to try again, if at all; this claim
    sends nothing, so a delivery whose attempts kill the process is given up in time."""
    now = utcnow()
    retry_at = next_attempt(_policy(uow), delivery["created_at"], delivery["attempt_count"] - 1, now)
    log.warning("webhook delivery %s: the attempt started at %s did not finish", delivery["_id"], started_at)
    await uow.webhooks.record_attempt(
        delivery["_id"],
        {"at": started_at, "error": LOST},
        status="pending" if retry_at else "failed",
        next_attempt_at=retry_at,
        finished_at=None if retry_at else now,
        sent=False,
    )
