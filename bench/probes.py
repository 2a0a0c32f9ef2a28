"""What the bench reads from the outside of the running system: CPU per process, Prometheus counters,
and the database's operation counters. Used to attribute cost per signing and to tell when it is idle."""

from __future__ import annotations

import asyncio
import os
from collections import defaultdict

import httpx
from pymongo import AsyncMongoClient

TICK = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of a process (all its threads, not its children: py-spy is the bench's), from /proc."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    # after the command: state(0) ... utime(11) stime(12)
    return (int(fields[11]) + int(fields[12])) / TICK


def cpu_snapshot(pids: dict[str, int]) -> dict[str, float]:
    return {name: cpu_seconds(pid) for name, pid in pids.items()}


def cpu_delta(before: dict[str, float], after: dict[str, float]) -> dict[str, float]:
    return {name: round(after[name] - before.get(name, 0.0), 3) for name in after}


def parse_prometheus(text: str) -> dict[tuple[str, tuple], float]:
    """`name{labels} value` lines into {(name, sorted label pairs): value}; enough for counters and gauges."""
    out: dict[tuple[str, tuple], float] = {}
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        head, _, value = line.rpartition(" ")
        name, _, labels = head.partition("{")
        pairs = []
        for part in labels.rstrip("}").split('",'):
            if "=" in part:
                key, _, val = part.partition("=")
                pairs.append((key.strip(), val.strip().strip('"')))
        try:
            out[(name, tuple(sorted(pairs)))] = float(value)
        except ValueError:
            continue
    return out


async def scrape(client: httpx.AsyncClient, urls: dict[str, str]) -> dict[str, dict]:
    async def one(name: str, url: str):
        try:
            return name, parse_prometheus((await client.get(f"{url}/metrics", timeout=10)).text)
        except httpx.HTTPError:
            return name, {}

    return dict(await asyncio.gather(*(one(n, u) for n, u in urls.items())))


def events_handled(metrics: dict[str, dict]) -> dict[str, float]:
    """Messages handled per consumer group (outcome=handled), summed over every service."""
    totals: dict[str, float] = defaultdict(float)
    for series in metrics.values():
        for (name, labels), value in series.items():
            d = dict(labels)
            if name == "akkoord_events_total" and d.get("outcome") == "handled":
                totals[d["group"]] += value
    return dict(totals)


def published(metrics: dict[str, dict]) -> float:
    return sum(
        v for series in metrics.values() for (name, _), v in series.items() if name == "akkoord_outbox_published_total"
    )


def outbox_pending(metrics: dict[str, dict]) -> float:
    return sum(v for series in metrics.values() for (name, _), v in series.items() if name == "akkoord_outbox_pending")


def request_histogram(metrics: dict, method: str, route: str) -> tuple[float, float]:
    """(count, sum of seconds) of a route's server-side latency histogram."""
    count = total = 0.0
    for (name, labels), value in metrics.items():
        d = dict(labels)
        if d.get("method") == method and d.get("route") == route:
            if name == "akkoord_http_request_duration_seconds_count":
                count += value
            elif name == "akkoord_http_request_duration_seconds_sum":
                total += value
    return count, total


async def opcounters(mongodb_uri: str) -> dict[str, int]:
    client = AsyncMongoClient(mongodb_uri)
    try:
        status = await client.admin.command("serverStatus")
        return {k: int(v) for k, v in (status.get("opcounters") or {}).items()}
    except Exception:
        return {}
    finally:
        await client.close()


async def wait_idle(client: httpx.AsyncClient, urls: dict[str, str], timeout: float = 180.0) -> float:
    """Seconds until every outbox is empty and no consumer handled anything for a second (bounded)."""
    loop = asyncio.get_running_loop()
    start = loop.time()
    previous = None
    while loop.time() - start < timeout:
        metrics = await scrape(client, urls)
        state = (sum(events_handled(metrics).values()), published(metrics))
        if state == previous and outbox_pending(metrics) == 0:
            return round(loop.time() - start, 2)
        previous = state
        await asyncio.sleep(1.0)
    return round(loop.time() - start, 2)
