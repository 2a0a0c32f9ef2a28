"""Signed webhooks against a receiver on loopback: retried with backoff, then delivered or failed."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json

import httpx
import pytest
from starlette.requests import Request
from starlette.responses import Response

from contracts import new_id
from contracts.messages import StaffKeyIssued, StaffKeyIssuedPayload
from contracts.topics import TASKS_EVENTS
from services.runtime.staff_auth import hash_key
from tests.support import approval_events as ev
from tests.support.accepted import publish_accepted
from tests.support.bus import publish
from tests.support.receivers import hook_receiver, misbehaving_receiver
from tests.support.waiting import eventually

JAN = ev.contact()
# Giving up counts from when the delivery was queued, so it must leave a loaded machine time for the first
# attempts: the flaky endpoint's second attempt has to fall inside it.
FAST_RETRIES = {
    "AUTOMATION_WEBHOOK_RETRY_BASE_SECONDS": "0.2",
    "AUTOMATION_WEBHOOK_MAX_DELAY_SECONDS": "0.5",
    "AUTOMATION_WEBHOOK_GIVE_UP_AFTER_SECONDS": "10",
    "AUTOMATION_WEBHOOK_POLL_SECONDS": "0.1",
    # The receivers run on loopback, which webhooks may only reach when allowed.
    "AUTOMATION_WEBHOOK_ALLOW_NETWORKS": "127.0.0.0/8",
    # Few slots, so that one tenant filling all of them would show.
    "AUTOMATION_WEBHOOK_CONCURRENCY": "4",
    "AUTOMATION_WEBHOOK_TENANT_CONCURRENCY": "2",
}


@pytest.fixture(scope="module")
async def receiver():
    """An HTTP receiver: /flaky fails each message's first attempt, /down always fails, /ok accepts."""
    received: list[dict] = []

    async def hook(request: Request) -> Response:
        body = await request.body()
        kind = request.path_params["kind"]
        seen = sum(1 for r in received if r["headers"].get("webhook-id") == request.headers.get("webhook-id"))
        received.append({"kind": kind, "headers": dict(request.headers), "body": body})
        if kind == "down" or (kind == "flaky" and seen == 0):
            return Response(status_code=503)
        return Response(status_code=204)

    async with hook_receiver(hook) as url:
        yield type("Receiver", (), {"url": url, "received": received})


@pytest.fixture
async def world(stack, infra, receiver):
    """Automation (restarted with short retry delays) and a fresh tenant whose staff key it knows."""
    running = stack.running.get("automation")
    if running is not None and running.popen.poll() is None and not getattr(running, "fast_retries", False):
        running.stop()
    service = stack.start("automation", extra_env=FAST_RETRIES)
    service.fast_retries = True
    tenant, secret = new_id(), f"staff-{new_id()}"
    await publish(infra.kafka_bootstrap, TASKS_EVENTS, *ev.tenant(tenant, secret))
    async with httpx.AsyncClient(base_url=service.url, headers={"Authorization": f"Bearer {secret}"}) as client:
        await eventually(lambda: _ok(client.get("/v1/webhooks")), what="the staff key is projected")
        yield type("World", (), {"client": client, "tenant": tenant, "bootstrap": infra.kafka_bootstrap})


async def a_tenant(world) -> httpx.AsyncClient:
    """Another tenant with an admin key automation knows; the caller closes the client."""
    tenant, secret = new_id(), f"staff-{new_id()}"
    await publish(world.bootstrap, TASKS_EVENTS, *ev.tenant(tenant, secret))
    client = httpx.AsyncClient(base_url=str(world.client.base_url), headers={"Authorization": f"Bearer {secret}"})
    await eventually(lambda: _ok(client.get("/v1/webhooks")), what="the staff key is projected")
    client.tenant = tenant
    return client


async def _ok(request) -> bool:
    return (await request).status_code == 200


def verify(secret: str, headers: dict, body: bytes) -> bool:
    """Standard Webhooks verification, written out independently of the service's code."""
    key = base64.b64decode(secret.split("_", 1)[1])
    signed = f"{headers['webhook-id']}.{headers['webhook-timestamp']}.".encode() + body
    expected = base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()
    return any(hmac.compare_digest(f"v1,{expected}", s) for s in headers["webhook-signature"].split(" "))


async def register(world, url: str, types=("task.signed",)) -> dict:
    response = await world.client.post("/v1/webhooks", json={"url": url, "event_types": list(types)})
    assert response.status_code == 201, response.text
    return response.json()


async def delivery_of(world, endpoint_id: str, status: str) -> dict | None:
    deliveries = (await world.client.get(f"/v1/webhooks/{endpoint_id}/deliveries")).json()["deliveries"]
    return next((d for d in deliveries if d["status"] == status), None)


async def test_a_signed_event_is_delivered_signed_and_retried_after_a_failure(world, receiver):
    # Given an endpoint subscribed to task.signed that fails its first attempt
    endpoint = await register(world, f"{receiver.url}/flaky")
    assert endpoint["secret"].startswith("whsec_")
    assert "secret" not in (await world.client.get("/v1/webhooks")).json()["endpoints"][0]
    # When a task is signed
    signed = ev.task_signed(world.tenant, new_id(), "a1", JAN)
    await publish_accepted(world.bootstrap, signed)
    # Then the delivery succeeds on the second attempt
    delivery = await eventually(lambda: delivery_of(world, endpoint["id"], "delivered"), what="a delivered webhook")
    assert delivery["attempt_count"] == 2 and [a["status_code"] for a in delivery["attempts"]] == [503, 204]
    # And both requests carry the same webhook id and a signature that verifies with the endpoint's secret
    requests = [r for r in receiver.received if r["headers"]["webhook-id"] == delivery["id"]]
    assert len(requests) == 2
    for request in requests:
        assert verify(endpoint["secret"], request["headers"], request["body"])
        body = json.loads(request["body"])
        assert body["type"] == "task.signed" and body["data"]["event_id"] == signed.event_id


async def test_retries_stop_after_the_time_limit_and_the_delivery_is_marked_failed(world, receiver):
    endpoint = await register(world, f"{receiver.url}/down")
    await publish_accepted(world.bootstrap, ev.task_signed(world.tenant, new_id(), "a1", JAN))
    failed = await eventually(lambda: delivery_of(world, endpoint["id"], "failed"), timeout=60, what="a failed webhook")
    # Every attempt the receiver saw is counted; the stored attempts are capped at the last ten
    sent = [r for r in receiver.received if r["headers"]["webhook-id"] == failed["id"]]
    assert failed["attempt_count"] == len(sent) >= 3
    assert len(failed["attempts"]) == min(failed["attempt_count"], 10)
    assert failed["next_attempt_at"] is None and failed["finished_at"]


async def test_an_endpoint_must_be_https_and_is_the_tenants_own(world):
    bad = await world.client.post(
        "/v1/webhooks", json={"url": "http://example.com/hook", "event_types": ["task.signed"]}
    )
    assert bad.status_code == 422 and "https" in bad.json()["detail"]
    assert (await world.client.get("/v1/webhooks/nope/deliveries")).status_code == 404


@pytest.mark.parametrize(
    "url",
    [
        "https://169.254.169.254/",
        "https://2852039166/",
        "https://0xa9fea9fe/",
        "https://0251.0376.0251.0376/",
        "https://169.254.43518/",
        "https://10.1/",
        "https://[::ffff:169.254.169.254]/",
        "https://100.64.0.1/",
    ],
)
async def test_an_endpoint_on_an_internal_address_is_refused_however_it_is_spelled(world, url):
    # (loopback is allowed in these tests, as on a developer's machine; its spellings are in the unit tests)
    bad = await world.client.post("/v1/webhooks", json={"url": url, "event_types": ["task.signed"]})
    assert bad.status_code == 422, bad.text
    assert bad.json()["errors"][0]["field"] == "url"


async def test_one_tenants_slow_endpoints_do_not_delay_another_tenants_delivery(world, receiver):
    async with misbehaving_receiver() as slow:
        # given a tenant whose endpoints trickle their answer and stream a huge one, with six deliveries due
        await register(world, slow.url("/trickle"))
        await register(world, slow.url("/huge"))
        for _ in range(3):
            await publish_accepted(world.bootstrap, ev.task_signed(world.tenant, new_id(), "a1", JAN))
        await eventually(lambda: _at_least(slow.requests, 2), what="the slow attempts under way")
        # when another tenant's task is signed
        other = await a_tenant(world)
        try:
            response = await other.post(
                "/v1/webhooks", json={"url": f"{receiver.url}/ok", "event_types": ["task.signed"]}
            )
            endpoint = response.json()
            await publish_accepted(world.bootstrap, ev.task_signed(other.tenant, new_id(), "a1", JAN))
            # then its webhook is delivered while the first tenant's attempts still hang (each may take 10 s)
            started = asyncio.get_running_loop().time()

            async def delivered():
                deliveries = (await other.get(f"/v1/webhooks/{endpoint['id']}/deliveries")).json()["deliveries"]
                return next((d for d in deliveries if d["status"] == "delivered"), None)

            await eventually(delivered, timeout=8, what="the other tenant's delivery")
            assert asyncio.get_running_loop().time() - started < 8
        finally:
            await other.aclose()
        # and the huge answer was not read: the receiver could push only what the sockets hold
        assert slow.body_bytes_sent < 64 * 1024 * 1024


async def _at_least(items: list, n: int) -> bool:
    return len(items) >= n


async def test_only_an_admin_key_adds_webhook_endpoints(world):
    # Given a plain staff key (not admin) of the same tenant
    secret = f"staff-{new_id()}"
    await publish(
        world.bootstrap,
        TASKS_EVENTS,
        StaffKeyIssued(
            tenant_id=world.tenant,
            payload=StaffKeyIssuedPayload(key_id=new_id(), key_hash=hash_key(secret), name="desk", role="staff"),
        ),
    )
    async with httpx.AsyncClient(
        base_url=str(world.client.base_url), headers={"Authorization": f"Bearer {secret}"}
    ) as staff:
        await eventually(lambda: _ok(staff.get("/v1/webhooks")), what="the staff key is projected")
        # Then it may look, but not add an endpoint
        refused = await staff.post(
            "/v1/webhooks", json={"url": "https://example.com/hook", "event_types": ["task.signed"]}
        )
        assert refused.status_code == 403


async def test_a_rule_can_call_a_webhook_and_the_delivery_names_the_rule(world, receiver):
    # Given an endpoint (subscribed to something else) and a rule that calls it when a task is signed
    endpoint = await register(world, f"{receiver.url}/ok", types=("action.declined",))
    rule = {
        "name": "Tell the ERP",
        "trigger": "task.signed",
        "actions": [{"type": "call_webhook", "endpoint_id": endpoint["id"]}],
    }
    missing = await world.client.post(
        "/v1/rules", json={**rule, "actions": [{"type": "call_webhook", "endpoint_id": "nope"}]}
    )
    assert missing.status_code == 422
    created = (await world.client.post("/v1/rules", json=rule)).json()
    # When a task is signed
    task = new_id()
    await publish_accepted(world.bootstrap, ev.task_signed(world.tenant, task, "a1", JAN))
    # Then the endpoint receives the event with the rule that sent it, and the run says so
    delivery = await eventually(lambda: delivery_of(world, endpoint["id"], "delivered"), what="the rule's webhook")
    [request] = [r for r in receiver.received if r["headers"]["webhook-id"] == delivery["id"]]
    assert json.loads(request["body"])["rule"] == {"id": created["id"], "name": "Tell the ERP"}
    runs = (await world.client.get(f"/v1/rules/{created['id']}/runs")).json()["runs"]
    assert runs[0]["sent"] == [{"type": "webhook", "endpoint_id": endpoint["id"], "delivery_id": delivery["id"]}]
