"""The end-to-end bench: the whole stack as processes, customers signing through the portal at several loads."""

from __future__ import annotations

import asyncio
import os
import tempfile
import time
from pathlib import Path

import httpx

from bench import probes, profile
from bench.load import run_level, verify
from bench.stack import Customer, Job, Setup, make_tenant, service_pids, start_services
from deploy.local import infra as local_infra
from deploy.local.infra import free_port
from tests.support.stack import Stack


async def idle_cpu_per_s(pids: dict[str, int], seconds: float = 5.0) -> dict[str, float]:
    """What each process burns doing nothing (relay polls, consumer fetch loops, heartbeats)."""
    before = probes.cpu_snapshot(pids)
    await asyncio.sleep(seconds)
    return {k: v / seconds for k, v in probes.cpu_delta(before, probes.cpu_snapshot(pids)).items()}


def per_signing(count: int, cpu: dict, handled_delta: dict, published_delta: float, ops_delta: dict) -> dict:
    n = max(count, 1)
    writes = sum(ops_delta.get(k, 0) for k in ("insert", "update", "delete"))
    deliveries = sum(handled_delta.values())
    return {
        "cpu_ms": {k: round(max(v, 0.0) * 1000 / n, 1) for k, v in cpu.items()},
        "cpu_ms_total": round(sum(max(v, 0.0) for v in cpu.values()) * 1000 / n, 1),
        # The services, Kafka and the database: what the system spends, the bench's own process left out.
        "cpu_ms_total_pipeline": round(sum(max(v, 0.0) for k, v in cpu.items() if k != "bench") * 1000 / n, 1),
        "messages_published": round(published_delta / n, 2),
        "deliveries_handled": round(deliveries / n, 2),
        "handled_by_group": {g: round(v / n, 2) for g, v in sorted(handled_delta.items()) if v},
        "transactions": round(deliveries / n + 1, 2),  # one per handled delivery, plus the portal's submit
        "mongo_writes": round(writes / n, 2),
        "mongo_ops": {k: round(v / n, 2) for k, v in ops_delta.items()},
    }


async def measured_level(urls, staff_key, infra, pids, jobs, rate, cfg, spy: list[str], idle: dict[str, float]) -> dict:
    mongodb_uri = infra.mongodb_uri
    metrics_client = httpx.AsyncClient(timeout=10)
    loop = asyncio.get_running_loop()
    try:
        idle_before = await probes.wait_idle(metrics_client, cfg["metrics_urls"])
        m0, ops0, cpu0 = (
            await probes.scrape(metrics_client, cfg["metrics_urls"]),
            await probes.opcounters(mongodb_uri),
            probes.cpu_snapshot(pids),
        )
        began = loop.time()
        recorders = profile.start(pids, spy) if spy else []
        try:
            level = await run_level(urls, infra.kafka_bootstrap, jobs, rate, timeout=cfg["timeout"])
        finally:
            profile.stop(recorders)
        cpu_level = probes.cpu_delta(cpu0, probes.cpu_snapshot(pids))
        # Background work the signings caused (sealing certificates, projections) after the last was seen.
        level["drain_s"] = await probes.wait_idle(metrics_client, cfg["metrics_urls"])
        m1, ops1 = await probes.scrape(metrics_client, cfg["metrics_urls"]), await probes.opcounters(mongodb_uri)
        cpu_all = probes.cpu_delta(cpu0, probes.cpu_snapshot(pids))
        # CPU the signings cost: everything burnt from submit to idle, less what the idle system burns anyway.
        elapsed = loop.time() - began
        cpu_net = {k: v - idle.get(k, 0.0) * elapsed for k, v in cpu_all.items()}
        handled0, handled1 = probes.events_handled(m0), probes.events_handled(m1)
        level["idle_wait_before_s"] = idle_before
        level["cpu_s_during_level"] = cpu_level
        level["per_signing"] = per_signing(
            level["accepted"],
            cpu_net,
            {g: handled1[g] - handled0.get(g, 0) for g in handled1},
            probes.published(m1) - probes.published(m0),
            {k: ops1.get(k, 0) - ops0.get(k, 0) for k in ops1},
        )
        count, total = (
            probes.request_histogram(m1["portal"], "POST", "/api/v1/actions/{action_id}/signature")[i]
            - probes.request_histogram(m0["portal"], "POST", "/api/v1/actions/{action_id}/signature")[i]
            for i in (0, 1)
        )
        level["portal_submit_server_mean_ms"] = round(total / count * 1000, 1) if count else None
        # Outside the measured window: the bus said so, and the services show it.
        level["verified"] = await verify(urls, staff_key, level.pop("_signings"))
        return level
    finally:
        await metrics_client.aclose()


async def run_levels(urls: dict[str, str], tenant: dict, infra, pids: dict[str, int], cfg: dict) -> dict:
    setup = Setup(urls, tenant["staff_key"], concurrency=cfg["setup_concurrency"])
    try:
        await setup.rule()
        customers: list[Customer] = list(await asyncio.gather(*(setup.customer(i) for i in range(cfg["signings"]))))
        plan = [
            (rate, min(cfg["signings"], int(rate * cfg["level_seconds"])) if rate else cfg["signings"])
            for rate in cfg["rates"]
        ]
        batches: list[list[Job]] = []
        for rate, count in plan:
            label = f"{rate:g}/s" if rate else "max"
            batches.append(list(await asyncio.gather(*(setup.job(c, label) for c in customers[:count]))))
        await asyncio.gather(*(setup.ready(job) for batch in batches for job in batch))
    finally:
        await setup.close()
    print(
        f"  prepared {len(customers)} customers with portal sessions and {sum(map(len, batches))} open actions "
        f"in {time.monotonic() - cfg['began']:.0f} s since the start"
    )
    async with httpx.AsyncClient(timeout=10) as metrics_client:
        await probes.wait_idle(metrics_client, cfg["metrics_urls"])
    idle = await idle_cpu_per_s(pids)
    print(f"  idle CPU (ms per second): { {k: round(v * 1000) for k, v in idle.items()} }")
    levels, skipped = [], []
    for (rate, _), jobs in zip(plan, batches, strict=False):
        label = "max" if rate is None else f"{rate:g}/s"
        if rate is not None and time.monotonic() - cfg["began"] > cfg["budget_s"]:  # the unthrottled level always runs
            skipped.append(label)
            print(f"  offered {label:>6}: skipped, the time budget (BENCH_BUDGET_S={cfg['budget_s']:.0f}) is spent")
            continue
        spy = cfg["pyspy"] if rate is None else []
        level = await measured_level(urls, tenant["staff_key"], infra, pids, jobs, rate, cfg, spy, idle)
        levels.append(level)
        print_level(level)
    return {
        "levels": levels,
        "skipped_levels": skipped,
        "cpus": os.cpu_count(),
        "idle_cpu_ms_per_s": {k: round(v * 1000, 1) for k, v in idle.items()},
    }


def print_level(lv: dict) -> None:
    lat = lv["latency"]
    offered = "max" if lv["offered_per_s"] is None else f"{lv['offered_per_s']:g}/s"
    print(
        f"  offered {offered:>6}: {lv['accepted']}/{lv['signings']} accepted ({lv['accepted_per_s']}/s), "
        f"{lv['completed']} completed ({lv['completed_per_s']}/s), {lv['timed_out']} timed out; drain {lv['drain_s']} s"
    )
    for key, name in (
        ("submit_http", "submit (HTTP 201)"),
        ("timelines_visible", "(a) both timelines"),
        ("phase_changed", "(b) phase changed"),
    ):
        s = lat[key]
        print(
            f"      {name:<20} p50 {s['p50_ms']} ms  p95 {s['p95_ms']} ms  p99 {s['p99_ms']} ms  max {s['max_ms']} ms"
        )
    w, v, cost = lv["watcher"], lv["verified"], lv["per_signing"]
    print(
        f"      watched {w['messages_read']} bus messages (bench CPU {w['bench_process_cpu_s']} s); afterwards "
        f"{v['checked']} checked over HTTP, {sum(v['failures'].values())} not shown {v['failures'] or ''}"
    )
    print(
        f"      per signing: CPU {cost['cpu_ms_total']} ms {cost['cpu_ms']}; {cost['messages_published']} messages, "
        f"{cost['deliveries_handled']} deliveries handled, {cost['mongo_writes']} Mongo writes"
    )


def run(cfg: dict, ceiling_run) -> dict:
    """Start everything, run the levels, then the raw ceiling against the same infrastructure."""
    with tempfile.TemporaryDirectory(prefix="akkoord-bench-") as tmp:
        work = Path(tmp)
        with (
            open(work / "infra.log", "ab") as log,
            local_infra.running(work / "infra", free_port(), free_port(), log_file=log) as infra,
        ):
            stack = Stack(infra=infra, workdir=work)
            try:
                start_services(stack)
                urls = {name: proc.url for name, proc in stack.running.items()}
                cfg["metrics_urls"] = {name: proc.ops_url for name, proc in stack.running.items()}  # operations ports
                tenant = make_tenant(urls)
                pids = {**service_pids(stack), "bench": os.getpid()}
                result = asyncio.run(run_levels(urls, tenant, infra, pids, cfg))
            finally:
                stack.stop_all()
            levels = result["levels"]
            top = next((lv for lv in levels if lv["offered_per_s"] is None), levels[-1])
            infra_pids = {p.name: p.popen.pid for p in infra.processes} | {"bench": os.getpid()}
            result["ceiling"] = asyncio.run(
                ceiling_run(infra.kafka_bootstrap, infra.mongodb_uri, top["accepted"], top["per_signing"], infra_pids)
            )
            result["mongodb_server"] = local_infra.mongo_server()
            if result["mongodb_server"] == "rust":
                result["previous_default"] = python_server_beside(work, top)
    return result


def python_server_beside(work: Path, top: dict) -> dict:
    """The same raw database work on SecantusDB's Python server (the previous default), in the same run."""
    from bench.ceiling import mongo_work

    per = top["per_signing"]
    transactions = max(1, round(top["accepted"] * per["transactions"]))
    writes_per_tx = max(1, round(per["mongo_writes"] / max(per["transactions"], 1e-9)))
    port = free_port()
    previous = os.environ.get("AKKOORD_MONGODB_SERVER")
    os.environ["AKKOORD_MONGODB_SERVER"] = "python"
    try:
        with open(work / "python-server.log", "ab") as log:
            server = local_infra.start_mongo(work / "python-server", port, log)
    finally:
        if previous is None:
            os.environ.pop("AKKOORD_MONGODB_SERVER")
        else:
            os.environ["AKKOORD_MONGODB_SERVER"] = previous
    try:
        pids = {"mongodb": server.popen.pid, "bench": os.getpid()}
        before = probes.cpu_snapshot(pids)
        txn = asyncio.run(mongo_work(local_infra.mongo_uri(port), transactions, writes_per_tx, True))
        cpu = sum(probes.cpu_delta(before, probes.cpu_snapshot(pids)).values())
    finally:
        server.stop()
    return {
        "server": "python",
        "mongo_transactions": txn,
        "signings_per_s": round(top["accepted"] / txn["seconds"], 1),
        "cpu_ms_per_signing": round(cpu * 1000 / max(top["accepted"], 1), 1),
    }
