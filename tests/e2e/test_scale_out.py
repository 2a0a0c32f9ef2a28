"""Scale-out: two replicas of timeline and of automation share their consumer groups; one of each is killed
(SIGKILL) in the middle of a stream of signings, and nothing is lost or applied twice.

The figures are printed (shown with `pytest -rA`) and written to test-artifacts/scale-out.json.
"""

from __future__ import annotations

import json
import os
import signal
import sys
import time
from pathlib import Path

import httpx
import pytest

from contracts.topics import PORTAL_EVENTS, TASKS_EVENTS, Groups
from tests.e2e import signings as w
from tests.support.stack import Stack
from tests.support.transactions import shorten_transaction_lifetime
from tests.support.waiting import eventually

SIGNINGS = int(os.environ.get("AKKOORD_SCALE_SIGNINGS", "1000"))
ARTIFACTS = Path("test-artifacts")


def mark(marks: dict, what: str, began: float) -> None:
    marks[what] = time.monotonic() - began
    print(f"{what} at {marks[what]:.1f}s", file=sys.stderr)


@pytest.fixture(scope="module")
def scaled(smtp, tmp_path_factory):
    """tasks once; timeline and automation twice each, on a broker and database of their own."""
    workdir = tmp_path_factory.mktemp("scale-out")
    with open(workdir / "infra.log", "ab") as log:
        infra = w.own_infra(workdir / "infra", log)
        # a replica killed mid-transaction leaves it open: let the server end it after 10 s, not 60
        shorten_transaction_lifetime(infra.mongodb_uri, 10)
        stack = Stack(infra=infra, workdir=workdir, smtp=smtp)
        try:
            for name in ("tasks", "timeline", "automation"):
                stack.start(name)
            stack.start_replica("timeline")
            stack.start_replica("automation")
            yield stack
        finally:
            stack.stop_all()
            infra.stop()


@pytest.mark.timeout(900)
async def test_a_replica_killed_mid_stream_loses_nothing_and_applies_nothing_twice(scaled):
    began = time.monotonic()
    urls = {name: proc.url for name, proc in scaled.running.items()}
    second = {name: scaled.replicas[f"{name}-2"] for name in ("timeline", "automation")}
    marks = {}
    tenant = await w.new_tenant(urls, "Schaal BV")
    mark(marks, "tenant", began)
    staff = httpx.AsyncClient(headers={"Authorization": f"Bearer {tenant['staff_key']}"}, timeout=10)
    r = await staff.post(f"{urls['automation']}/v1/rules", json=w.RULE)
    assert r.status_code == 201, r.text
    rule_id = r.json()["id"]
    await staff.aclose()

    # Given SIGNINGS tasks (1,000 unless AKKOORD_SCALE_SIGNINGS says otherwise) waiting for approval, each with
    # a signature request, made through the staff API
    requests = await w.request_signatures(urls["tasks"], tenant["staff_key"], SIGNINGS, concurrency=24)
    set_up = time.monotonic()
    mark(marks, "requests", began)
    print(f"cpu after setup: {w.cpu_of(scaled)}", file=sys.stderr)
    records = w.Records(scaled.infra.mongodb_uri, tenant["tenant_id"])
    tally = await w.PhaseTally(scaled.infra.kafka_bootstrap, tenant["tenant_id"]).start()
    try:
        # When every contact signs (the portal's task.signed, straight onto portal.events)
        messages = [w.signed(tenant["tenant_id"], req, f"{urls['tasks']}/no-image") for req in requests]
        await w.publish(scaled.infra.kafka_bootstrap, PORTAL_EVENTS, messages)
        mark(marks, "published", began)

        # and both second replicas are killed once they have done part of the work, with more still to come
        async def both_replicas_working():
            t = await w.handled_by(second["timeline"].ops_url, Groups.TIMELINE, "task.action_completed")
            a = await w.handled_by(second["automation"].ops_url, Groups.AUTOMATION, "task.action_completed")
            enough = max(1, min(20, SIGNINGS // 10))
            return (t, a) if t >= enough and a >= enough else None

        at_kill = await eventually(
            both_replicas_working, timeout=120, interval=0.5, what="the second replicas handling signings"
        )
        signed_at_kill = await records.entries_of_kind("task.signed", "staff")
        for proc in second.values():
            proc.stop(signal.SIGKILL)
        mark(marks, "killed", began)
        print(f"cpu at kill: {w.cpu_of(scaled)}", file=sys.stderr)
        assert signed_at_kill < SIGNINGS, "the kill came after the stream had ended"

        # Then every signing reaches both timelines, every rule runs once per signing, every phase changes once
        async def settled():
            # The slowest effect, read off the bus, first; then the database, one count at a time: the probe
            # must not load the database it waits on.
            assert tally.changed >= SIGNINGS, {"phase_changed on the bus": tally.changed}
            counts = {}
            for what, count in (
                ("phase_changed", lambda: records.entries_of_kind("task.phase_changed", "staff")),
                ("staff", lambda: records.entries_of_kind("task.signed", "staff")),
                ("portal", lambda: records.entries_of_kind("task.signed", "portal")),
                ("completed", records.completed_actions),
                ("runs", lambda: records.count_runs(rule_id)),
            ):
                counts[what] = await count()
                assert counts[what] >= SIGNINGS, counts
            return counts

        await eventually(settled, timeout=420, interval=3, what=f"{SIGNINGS} signings settled")
        settled_at = time.monotonic()
        mark(marks, "settled", began)
        print(f"cpu settled: {w.cpu_of(scaled)}", file=sys.stderr)

        task_ids = {req.task_id for req in requests}
        assert await records.signed_tasks("staff") == task_ids
        assert await records.signed_tasks("portal") == task_ids
        assert await records.duplicate_entries() == []
        assert await records.broken_chains() == []
        runs = await records.runs_per_event(rule_id)
        assert set(runs) == {m.event_id for m in messages} and set(runs.values()) == {1}
        assert await records.tasks_in(w.APPROVED) == SIGNINGS
        changes = w.phase_changes_per_task(
            await w.read_topic(scaled.infra.kafka_bootstrap, TASKS_EVENTS), tenant["tenant_id"]
        )
        assert set(changes) == task_ids and set(changes.values()) == {1}
    finally:
        await tally.stop()
        await records.close()

    figures = {
        "signings": SIGNINGS,
        "replicas": {"timeline": 2, "automation": 2},
        "killed": [f"{name}-2" for name in second],
        "second_replicas_handled_before_kill": at_kill,
        "staff_entries_at_kill": signed_at_kill,
        "duplicates": 0,
        "setup_s": round(set_up - began, 1),
        "signings_settled_s": round(settled_at - set_up, 1),
        "elapsed_s": round(time.monotonic() - began, 1),
        "marks": {k: round(v, 1) for k, v in marks.items()},
    }
    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / "scale-out.json").write_text(json.dumps(figures, indent=2))
    print(f"\nscale-out: {json.dumps(figures)}", file=sys.stderr)
