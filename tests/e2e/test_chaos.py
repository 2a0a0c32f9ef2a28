"""Chaos: while signings stream through all six services, each service is killed (SIGKILL) once and restarted,
the broker and the database are restarted, every signing is delivered three times, and poison is published.
Nothing may be lost, nothing may be applied twice, and only the poison may land in a dead-letter queue.

The figures (signings, duplicates, DLQ counts, restarts, elapsed) are printed (shown with `pytest -rA`) and
written to test-artifacts/chaos.json.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
import time
from pathlib import Path

import httpx
import pytest

from contracts.topics import PORTAL_EVENTS, TASKS_EVENTS, dlq
from tests.e2e import signings as w
from tests.support.magic_link import open_link
from tests.support.stack import SERVICES, Stack
from tests.support.story import drawn_signature_png
from tests.support.waiting import eventually

DIRECT = int(os.environ.get("AKKOORD_CHAOS_SIGNINGS", "60"))  # task.signed published straight to portal.events
THROUGH_PORTAL = int(os.environ.get("AKKOORD_CHAOS_PORTAL_SIGNINGS", "6"))  # customers through the portal API
DELIVERIES = 3
ARTIFACTS = Path("test-artifacts")


@pytest.fixture(scope="module")
def chaos_stack(smtp, tmp_path_factory):
    """Every service on a broker and database of their own: this test restarts both."""
    workdir = tmp_path_factory.mktemp("chaos")
    log = open(workdir / "infra.log", "ab")
    infra = w.own_infra(workdir / "infra", log)
    stack = Stack(infra=infra, workdir=workdir, smtp=smtp)
    stack.infra_log = log
    try:
        for name in SERVICES:
            stack.start(name)
        yield stack
    finally:
        stack.stop_all()
        infra.stop()
        log.close()


async def log_in(customer: httpx.AsyncClient, link_url: str) -> None:
    """The customer opens the magic link and confirms (it works once): the portal sets a session."""
    r = await open_link(customer, link_url)
    assert r.status_code in (302, 303), r.text


async def sign_in_portal(
    customer: httpx.AsyncClient, portal_url: str, action_ids: list[str], customer_name: str
) -> list[dict]:
    """The signed-in customer signs each open action through the portal's JSON API."""

    async def all_open():
        tasks = (await customer.get(f"{portal_url}/api/v1/tasks")).json()
        return {a["id"] for t in tasks for a in t["open_actions"]} >= set(action_ids)

    await eventually(all_open, timeout=120, interval=0.5, what="the open actions in the portal")
    csrf = (await customer.get(f"{portal_url}/api/v1/session")).json()["csrf_token"]
    body = {
        "fields": {"full_name": customer_name},
        "consent": True,
        "signature": {"kind": "drawn", "png_base64": drawn_signature_png()},
    }
    out = []
    for action_id in action_ids:
        r = await customer.post(
            f"{portal_url}/api/v1/actions/{action_id}/signature", json=body, headers={"X-CSRF-Token": csrf}
        )
        assert r.status_code == 201, r.text
        out.append(r.json())
    return out


@pytest.mark.timeout(900)
async def test_kills_restarts_and_triple_delivery_lose_no_signature_and_apply_none_twice(chaos_stack):
    stack = chaos_stack
    began = time.monotonic()
    urls = {name: proc.url for name, proc in stack.running.items()}
    bootstrap = stack.infra.kafka_bootstrap
    tenant = await w.new_tenant(urls, "Chaos & Zonen")
    tenant_id = tenant["tenant_id"]
    staff = httpx.AsyncClient(headers={"Authorization": f"Bearer {tenant['staff_key']}"}, timeout=30)
    r = await staff.post(f"{urls['automation']}/v1/rules", json=w.RULE)
    assert r.status_code == 201, r.text
    rule_id = r.json()["id"]

    # Given tasks waiting for approval with a signature request each: most for contacts whose signing we
    # publish as the portal would, a few for a customer who signs through the portal itself
    direct = await w.request_signatures(urls["tasks"], tenant["staff_key"], DIRECT)
    in_portal = await w.request_signatures(urls["tasks"], tenant["staff_key"], THROUGH_PORTAL, contacts=1)
    r = await staff.post(f"{urls['tasks']}/v1/contacts/{in_portal[0].contact_id}/portal-links")
    assert r.status_code == 201, r.text
    link = r.json()["url"]
    everyone = direct + in_portal
    restarts: dict[str, float] = {}

    async def kill_and_restart(name: str) -> None:
        t = time.monotonic()
        stack.running[name].stop(signal.SIGKILL)
        await asyncio.to_thread(stack.start, name, None, 120)
        restarts[name] = round(time.monotonic() - t, 1)

    async def restart_infra(name: str) -> None:
        away = await asyncio.to_thread(w.restart_infra, stack.infra, name, stack.workdir / "infra", stack.infra_log)
        restarts[name] = round(away, 1)

    records = w.Records(stack.infra.mongodb_uri, tenant_id)
    customer = httpx.AsyncClient(timeout=30, follow_redirects=False)
    try:
        # When the first customer signs in the portal, its signature image is what the published signings show
        await log_in(customer, link)
        first = await sign_in_portal(customer, urls["portal"], [in_portal[0].action_id], in_portal[0].contact_name)

        async def portal_signed_message():
            return next(
                (
                    m
                    for m in await w.read_topic(bootstrap, PORTAL_EVENTS)
                    if m.get("type") == "task.signed" and m["payload"]["action_id"] == in_portal[0].action_id
                ),
                None,
            )

        image_url = (await eventually(portal_signed_message, what="the portal's task.signed"))["payload"]["signature"][
            "image_url"
        ]
        messages = [w.signed(tenant_id, req, image_url) for req in direct]
        thirds = [messages[i::3] for i in range(3)]
        poison = [
            b"{not json",
            json.dumps(
                {
                    "type": "task.signed",
                    "event_id": "poison-1",
                    "tenant_id": tenant_id,
                    "task_id": "no-such-task",
                    "payload": {"action_id": 7},
                }
            ).encode(),
            # well formed, but no tenant, task or action of that name exists: tasks cannot complete it
            w.signed(
                "no-such-tenant",
                w.Request("no-such-task", "no-such-action", "nobody", "Niemand", "niemand@example.nl"),
                image_url,
            ),
        ]

        # and signings stream in, each delivered three times, while every service is killed and restarted,
        # the broker is restarted and the database is restarted
        await w.publish(bootstrap, PORTAL_EVENTS, thirds[0], times=DELIVERIES)
        for name in ("timeline", "automation", "tasks", "notifications"):
            await kill_and_restart(name)
        await w.publish_raw(bootstrap, PORTAL_EVENTS, poison)
        await w.publish(bootstrap, PORTAL_EVENTS, thirds[1], times=DELIVERIES)
        for name in ("signing", "documents", "portal"):
            await kill_and_restart(name)
        await restart_infra("kafka")
        await w.publish(bootstrap, PORTAL_EVENTS, thirds[2], times=DELIVERIES)
        rest = await sign_in_portal(
            customer, urls["portal"], [req.action_id for req in in_portal[1:]], in_portal[0].contact_name
        )
        await restart_infra("mongodb")
        chaos_done = time.monotonic()

        # Then every signing settles: action completed, both timelines, a sealed certificate, the phase moved
        async def settled():
            counts = {
                "completed": await records.completed_actions(),
                "staff": len(await records.signed_tasks("staff")),
                "portal": len(await records.signed_tasks("portal")),
                "approved": await records.tasks_in(w.APPROVED),
                "sealed": await records.sealed_certificates(),
            }
            assert all(v >= len(everyone) for v in counts.values()), counts
            return counts

        await eventually(settled, timeout=300, interval=3, what="every signing settled after the chaos")
        settled_at = time.monotonic()
        task_ids = {req.task_id for req in everyone}
        in_both = await records.signed_tasks("staff") & await records.signed_tasks("portal")
        lost = len(task_ids - in_both)
        assert await records.completed_actions() == len(everyone)
        assert in_both == task_ids
        assert await records.sealed_certificates() == len(everyone)
        duplicates = await records.duplicate_entries()
        assert duplicates == []
        assert await records.broken_chains() == []
        runs = await records.runs_per_event(rule_id)
        assert len(runs) == len(everyone) and set(runs.values()) == {1}

        # (tasks' database says every task is approved; its outbox relays the phase changes on its own time,
        # after the restarts perhaps a little later)
        async def every_phase_change_published():
            changes = w.phase_changes_per_task(await w.read_topic(bootstrap, TASKS_EVENTS), tenant_id)
            return changes if set(changes) >= task_ids else None

        changes = await eventually(
            every_phase_change_published, timeout=120, interval=3, what="every phase change on tasks.events"
        )
        assert set(changes) == task_ids and set(changes.values()) == {1}

        # and every customer got one invitation and one thank-you per request, however often events came
        def mails_of_kind(kind: str) -> list:
            return [
                m
                for m in stack.smtp.handler.received
                if "Chaos & Zonen" in str(m.message["From"]) and m.message["X-Akkoord-Notification"] == kind
            ]

        async def all_mailed():
            invited, thanked = mails_of_kind("action_requested"), mails_of_kind("proof")
            return (invited, thanked) if min(len(invited), len(thanked)) >= len(everyone) else None

        invited, thanked = await eventually(all_mailed, timeout=120, interval=2, what="every invitation and proof")
        assert len(invited) == len(everyone) and len(thanked) == len(everyone)

        # and the poison, only the poison, is in the dead-letter queue, with its reason
        dead = await w.read_topic(bootstrap, dlq(PORTAL_EVENTS))
        signed_ids = {m.event_id for m in messages} | {s.get("event_id") for s in first + rest}
        assert not [d for d in dead if d.get("event_id") in signed_ids], "a real signing was dead-lettered"
        assert {d.get("event_id") for d in dead} >= {"poison-1", poison[2].event_id}
        assert any(d.get("raw") == "{not json" for d in dead)
        assert all(d["_headers"].get("error") for d in dead)
        other_dlqs = {
            t: len(await w.read_topic(bootstrap, dlq(t)))
            for t in ("tasks.events", "tasks.commands", "documents.events", "signing.events")
        }

        # and no service logged an unhandled error
        errors, outage_lines = w.errors_in_logs(stack)
    finally:
        await records.close()
        await staff.aclose()
        await customer.aclose()

    figures = {
        "signings": len(everyone),
        "published_directly": DIRECT,
        "through_portal": THROUGH_PORTAL,
        "deliveries_per_published_signing": DELIVERIES,
        "duplicates": len(duplicates),
        "lost": lost,
        "dlq": {dlq(PORTAL_EVENTS): len(dead), **{dlq(t): n for t, n in other_dlqs.items()}},
        "restarts_s": restarts,
        "unhandled_errors": {k: len(v) for k, v in errors.items()},
        "outage_log_lines": outage_lines,
        "chaos_s": round(chaos_done - began, 1),
        "settled_after_chaos_s": round(settled_at - chaos_done, 1),
        "elapsed_s": round(time.monotonic() - began, 1),
    }
    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / "chaos.json").write_text(json.dumps(figures, indent=2))
    print(f"\nchaos: {json.dumps(figures)}", file=sys.stderr)
    assert errors == {}, json.dumps(errors, indent=1)[:6000]
    assert set(other_dlqs.values()) == {0}, other_dlqs
