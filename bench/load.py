"""One load level: customers submit signatures through the portal API at an offered rate (or all at once),
and a bounded poller times when each signing shows in both timelines and when automation moved the phase.

The poller is bounded on purpose (a semaphore over every poll request, a fixed gap between rounds) so
that measuring does not become the bottleneck; its request rate and its resolution are reported."""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from dataclasses import dataclass, field

import httpx

from bench.stack import APPROVED, SIGNATURE_B64, Job, no_cookies
from bench.stats import summary_ms


@dataclass
class Signing:
    job: Job
    t_submit: float = 0.0
    t_accepted: float | None = None
    status: int | None = None
    seen: dict[str, float] = field(default_factory=dict)
    resolution: dict[str, float] = field(default_factory=dict)
    error: str = ""

    def done(self, *conditions: str) -> float | None:
        if self.t_accepted is None or any(c not in self.seen for c in conditions):
            return None
        return max(self.seen[c] for c in conditions) - self.t_submit


class Poller:
    CONDITIONS = ("staff_timeline", "portal_timeline", "phase")

    def __init__(self, urls: dict[str, str], staff_key: str, concurrency: int, gap: float):
        self.urls = urls
        self.sem = asyncio.Semaphore(concurrency)
        self.gap = gap
        limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
        self.staff = httpx.AsyncClient(headers={"Authorization": f"Bearer {staff_key}"}, timeout=30, limits=limits)
        self.portal = httpx.AsyncClient(timeout=30, cookies=no_cookies(), limits=limits)
        self.requests = 0
        self.errors = 0

    async def close(self) -> None:
        await self.staff.aclose()
        await self.portal.aclose()

    async def check(self, condition: str, job: Job) -> bool:
        if condition == "staff_timeline":
            r = await self.staff.get(f"{self.urls['timeline']}/v1/tasks/{job.task_id}/timeline",
                                     params={"audience": "staff", "kind": "task.signed", "limit": 1})
            return r.status_code == 200 and bool(r.json()["entries"])
        if condition == "portal_timeline":
            r = await self.portal.get(f"{self.urls['portal']}/api/v1/tasks/{job.task_id}",
                                      headers=job.customer.headers)
            return r.status_code == 200 and any(e["kind"] == "task.signed" for e in r.json().get("timeline", []))
        r = await self.staff.get(f"{self.urls['tasks']}/v1/tasks/{job.task_id}")
        return r.status_code == 200 and r.json()["phase"] == APPROVED

    async def watch(self, s: Signing, deadline: float) -> None:
        pending = list(self.CONDITIONS)
        last_miss = {c: s.t_submit for c in pending}
        while pending and time.perf_counter() < deadline:
            # Timeline writes both audiences' entries in one transaction: the portal's view is checked
            # once the staff entry is there, which saves a third of the poll requests.
            for condition in list(pending):  # staff, portal, phase: the portal right after the staff entry
                if condition == "portal_timeline" and "staff_timeline" not in s.seen:
                    continue
                async with self.sem:
                    asked = time.perf_counter()
                    try:
                        ok = await self.check(condition, s.job)
                    except (httpx.HTTPError, ValueError, KeyError):
                        ok = False
                        self.errors += 1
                    self.requests += 1
                    answered = time.perf_counter()
                if ok:
                    s.seen[condition] = answered
                    s.resolution[condition] = answered - last_miss[condition]
                    pending.remove(condition)
                else:
                    last_miss[condition] = asked
            if pending:
                # The gap grows with the wait (10% of it, at most 1 s): the resolution stays within ~10% of the
                # latency measured, while a backlog of slow signings does not flood the services with polls.
                await asyncio.sleep(min(max(self.gap, 0.1 * (time.perf_counter() - s.t_submit)), 1.0))


async def submit(client: httpx.AsyncClient, url: str, s: Signing, index: int) -> None:
    job = s.job
    body = {"fields": {"full_name": f"Klant {job.customer.index:04d}"}, "consent": True,
            "signature": {"kind": "drawn", "png_base64": SIGNATURE_B64}}
    # Each customer comes from their own address (uvicorn trusts X-Forwarded-For from loopback).
    headers = {**job.customer.headers, "X-Forwarded-For": f"10.{index // 65536 % 256}.{index // 256 % 256}.{index % 256}"}
    s.t_submit = time.perf_counter()
    try:
        r = await client.post(f"{url}/api/v1/actions/{job.action_id}/signature", json=body, headers=headers)
        s.status = r.status_code
        if r.status_code == 201:
            s.t_accepted = time.perf_counter()
    except httpx.HTTPError as exc:
        s.status = -1
        s.error = repr(exc)


async def run_level(urls: dict[str, str], staff_key: str, jobs: list[Job], rate: float | None, *,
                    poll_concurrency: int, poll_gap: float, timeout: float) -> dict:
    """Offer `jobs` at `rate` signings/s (None: all at once), wait for each to complete or time out."""
    poller = Poller(urls, staff_key, poll_concurrency, poll_gap)
    client = httpx.AsyncClient(timeout=60, cookies=no_cookies(),
                               limits=httpx.Limits(max_connections=200, max_keepalive_connections=200))
    signings = [Signing(job) for job in jobs]
    start = time.perf_counter()
    cpu_start = time.process_time()
    watchers = []

    async def one(i: int, s: Signing) -> None:
        if rate:
            await asyncio.sleep(max(0.0, start + i / rate - time.perf_counter()))
        await submit(client, urls["portal"], s, i)
        if s.t_accepted is not None:
            await poller.watch(s, s.t_submit + timeout)

    try:
        watchers = [asyncio.create_task(one(i, s)) for i, s in enumerate(signings)]
        await asyncio.gather(*watchers)
    finally:
        await client.aclose()
        await poller.close()
    end = time.perf_counter()
    return summarise(signings, rate, start, end, poller, time.process_time() - cpu_start, poll_concurrency, poll_gap)


def summarise(signings: list[Signing], rate: float | None, start: float, end: float, poller: Poller,
              bench_cpu: float, poll_concurrency: int, poll_gap: float) -> dict:
    accepted = [s for s in signings if s.t_accepted is not None]
    complete = [s for s in accepted if s.done(*Poller.CONDITIONS) is not None]
    first = min((s.t_submit for s in signings), default=start)
    last_accept = max((s.t_accepted for s in accepted), default=first)
    last_done = max((s.t_submit + s.done(*Poller.CONDITIONS) for s in complete), default=first)
    resolution = [r for s in accepted for r in s.resolution.values()]
    return {
        "offered_per_s": rate, "signings": len(signings), "accepted": len(accepted), "completed": len(complete),
        "timed_out": len(accepted) - len(complete),
        "submit_status": dict(Counter(str(s.status) for s in signings)),
        "accepted_per_s": round(len(accepted) / (last_accept - first), 2) if last_accept > first else None,
        "completed_per_s": round(len(complete) / (last_done - first), 2) if last_done > first else None,
        "window_s": round(last_done - first, 2),
        "latency": {
            "submit_http": summary_ms([s.t_accepted - s.t_submit for s in accepted]),
            "timelines_visible": summary_ms([d for s in accepted if (d := s.done("staff_timeline", "portal_timeline")) is not None]),
            "staff_timeline": summary_ms([d for s in accepted if (d := s.done("staff_timeline")) is not None]),
            "portal_timeline": summary_ms([d for s in accepted if (d := s.done("portal_timeline")) is not None]),
            "phase_changed": summary_ms([d for s in accepted if (d := s.done("phase")) is not None]),
        },
        "poller": {"concurrency": poll_concurrency, "gap_ms": poll_gap * 1000, "requests": poller.requests,
                   "errors": poller.errors, "requests_per_s": round(poller.requests / max(end - start, 1e-9), 1),
                   "resolution": summary_ms(resolution), "bench_process_cpu_s": round(bench_cpu, 2)},
    }
