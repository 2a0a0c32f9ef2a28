"""A webhook attempt that takes automation's process with it counts as a failed attempt: the delivery is retried
on the schedule and then marked failed like any other, instead of being claimed again after every restart."""

from __future__ import annotations

import os
import signal

import httpx
import pytest
from starlette.requests import Request
from starlette.responses import Response

from contracts import new_id
from contracts.topics import TASKS_EVENTS
from tests.support import approval_events as ev
from tests.support.accepted import publish_accepted
from tests.support.bus import publish
from tests.support.receivers import hook_receiver
from tests.support.supervised import Supervised
from tests.support.waiting import eventually

JAN = ev.contact()
# A short lease (above the attempt's deadline) so a lost attempt is noticed within seconds, and a give-up time
# that leaves room for a few restarts of the process on a loaded machine.
CRASHING = {
    "AUTOMATION_WEBHOOK_LEASE_SECONDS": "2",
    "AUTOMATION_WEBHOOK_TIMEOUT_SECONDS": "1",
    "AUTOMATION_WEBHOOK_RETRY_BASE_SECONDS": "0.2",
    "AUTOMATION_WEBHOOK_MAX_DELAY_SECONDS": "0.5",
    "AUTOMATION_WEBHOOK_GIVE_UP_AFTER_SECONDS": "12",
    "AUTOMATION_WEBHOOK_POLL_SECONDS": "0.1",
    "AUTOMATION_WEBHOOK_ALLOW_NETWORKS": "127.0.0.0/8",
}
MAX_STARTS = 12  # far more than the give-up time allows: without the count, the restarts never end


@pytest.fixture
async def automation(stack):
    """Automation with a short lease, in a process of its own (stopped after, so no other test gets its
    settings: the stack starts its own again)."""
    if (running := stack.running.get("automation")) is not None:
        running.stop()
    supervised = Supervised(stack, "automation", CRASHING)
    await supervised.start()
    yield supervised
    supervised.stop()


@pytest.fixture
async def killer(automation):
    """A receiver whose every request ends the automation process that sent it (SIGKILL: no cleanup, no
    record of the attempt), as a crash in native code or an exhausted memory would; /ok accepts."""
    kills: list[str] = []

    async def hook(request: Request) -> Response:
        if request.path_params["kind"] == "kill":
            kills.append(request.headers["webhook-id"])
            os.kill(automation.popen.pid, signal.SIGKILL)
        return Response(status_code=204)

    async with hook_receiver(hook) as url:
        yield type("Killer", (), {"url": url, "kills": kills})


async def test_a_delivery_whose_attempts_kill_the_process_is_marked_failed_after_the_bounded_attempts(
    infra, automation, killer
):
    # given a tenant with an endpoint that kills automation on every attempt, and one that accepts
    tenant, secret = new_id(), f"staff-{new_id()}"
    await publish(infra.kafka_bootstrap, TASKS_EVENTS, *ev.tenant(tenant, secret))
    client = httpx.AsyncClient(base_url=automation.url, headers={"Authorization": f"Bearer {secret}"}, timeout=5)
    try:

        async def key_known() -> bool:
            return (await client.get("/v1/webhooks")).status_code == 200

        await eventually(key_known, what="the staff key is projected")
        deadly = await client.post("/v1/webhooks", json={"url": f"{killer.url}/kill", "event_types": ["task.signed"]})
        assert deadly.status_code == 201, deadly.text
        # when a task is signed, and automation is started again each time it dies (as Kubernetes does)
        await publish_accepted(infra.kafka_bootstrap, ev.task_signed(tenant, new_id(), "a1", JAN))

        async def failed() -> dict | None:
            if automation.dead():
                if automation.starts >= MAX_STARTS:
                    pytest.fail(f"still dying after {automation.starts} starts, kills: {killer.kills}")
                await automation.start()
                return None
            try:
                response = await client.get(f"/v1/webhooks/{deadly.json()['id']}/deliveries")
            except httpx.HTTPError:  # died while asked
                return None
            return next((d for d in response.json()["deliveries"] if d["status"] == "failed"), None)

        delivery = await eventually(failed, timeout=120, interval=0.2, what="the deadly delivery failed")
        # then every attempt that killed the process is counted, and shown as one that did not finish
        assert killer.kills and set(killer.kills) == {delivery["id"]}
        assert delivery["attempt_count"] == len(killer.kills)
        assert [a["status_code"] for a in delivery["attempts"]] == [None] * len(killer.kills)
        assert all("did not finish" in a["error"] for a in delivery["attempts"])
        assert delivery["next_attempt_at"] is None and delivery["finished_at"]
        # and, once that endpoint is gone, the process delivers the tenant's other webhooks and stays up
        assert (await client.delete(f"/v1/webhooks/{deadly.json()['id']}")).status_code == 204
        ok = await client.post("/v1/webhooks", json={"url": f"{killer.url}/ok", "event_types": ["task.signed"]})
        await publish_accepted(infra.kafka_bootstrap, ev.task_signed(tenant, new_id(), "a2", JAN))

        async def delivered() -> dict | None:
            response = await client.get(f"/v1/webhooks/{ok.json()['id']}/deliveries")
            return next((d for d in response.json()["deliveries"] if d["status"] == "delivered"), None)

        await eventually(delivered, timeout=30, what="the other endpoint's delivery")
        assert not automation.dead()
    finally:
        await client.aclose()
