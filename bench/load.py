"""One load level: customers submit signatures through the portal API at an offered rate (or all at once),
and the bench times when each signing shows in both timelines and when automation moved the phase.

It watches the bus instead of polling the services: the portal's `task.signed` names the event, timeline's
`timeline.entry_appended` (written in the same transaction as the entry, so published only once the entry
is readable) says when each audience's entry for that event exists, and tasks' `task.phase_changed` says
when the rule's phase change was applied. Polling would load the very database being measured (a
timeline read costs the local MongoDB-protocol server about as much as a write). After the level, every
completed signing is checked once over HTTP: both timelines show it and the task is Approved."""

from __future__ import annotations

import asyncio
import json
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field

import httpx
from aiokafka import AIOKafkaConsumer, TopicPartition

from bench.stack import APPROVED, SIGNATURE_B64, Job, no_cookies
from bench.stats import summary_ms
from contracts.topics import PORTAL_EVENTS, TASKS_EVENTS, TIMELINE_CHAIN

CONDITIONS = ("staff_timeline", "portal_timeline", "phase")


@dataclass
class Signing:
    job: Job
    t_submit: float = 0.0
    t_accepted: float | None = None
    status: int | None = None
    seen: dict[str, float] = field(default_factory=dict)
    error: str = ""

    def done(self, *conditions: str) -> float | None:
        if self.t_accepted is None or any(c not in self.seen for c in conditions):
            return None
        return max(self.seen[c] for c in conditions) - self.t_submit


class BusWatcher:
    """Reads the three topics from their current end and notes when each signing's conditions held."""

    def __init__(self, bootstrap: str, signings: list[Signing]):
        self.by_task = {s.job.task_id: s for s in signings}
        self.signed_event: dict[str, str] = {}  # task.signed event id -> task id
        self.early: dict[str, set[str]] = defaultdict(set)  # entries seen before their task.signed
        self.consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
        self.messages = 0
        self.task: asyncio.Task | None = None

    async def start(self) -> None:
        await self.consumer.start()
        parts = [
            TopicPartition(t, p)
            for t in (PORTAL_EVENTS, TASKS_EVENTS, TIMELINE_CHAIN)
            for p in sorted(self.consumer.partitions_for_topic(t) or await self._partitions(t))
        ]
        self.consumer.assign(parts)
        await self.consumer.seek_to_end(*parts)
        for tp in parts:  # resolve the end offsets now, before the first submit
            await self.consumer.position(tp)
        self.task = asyncio.create_task(self._run())

    async def _partitions(self, topic: str) -> set[int]:
        await self.consumer._client.force_metadata_update()
        return self.consumer.partitions_for_topic(topic) or {0}

    async def stop(self) -> None:
        if self.task:
            self.task.cancel()
            await asyncio.gather(self.task, return_exceptions=True)
        await self.consumer.stop()

    async def _run(self) -> None:
        while True:
            batch = await self.consumer.getmany(timeout_ms=100)
            now = time.perf_counter()
            for records in batch.values():
                for record in records:
                    self.messages += 1
                    self._note(record.topic, json.loads(record.value), now)

    def _note(self, topic: str, msg: dict, now: float) -> None:
        s = self.by_task.get(msg.get("task_id", ""))
        if s is None:
            return
        kind = msg.get("type")
        if kind == "task.signed":
            self.signed_event[msg["event_id"]] = s.job.task_id
            for audience in self.early.pop(msg["event_id"], ()):
                s.seen.setdefault(f"{audience}_timeline", now)
        elif kind == "timeline.entry_appended":
            payload = msg["payload"]
            if payload["event_id"] in self.signed_event:
                s.seen.setdefault(f"{payload['audience']}_timeline", now)
            else:
                self.early[payload["event_id"]].add(payload["audience"])
        elif kind == "task.phase_changed" and msg["payload"].get("to_phase") == APPROVED:
            s.seen.setdefault("phase", now)

    async def all_done(self, signings: list[Signing], deadline: float) -> None:
        while time.perf_counter() < deadline and any(
            s.t_accepted is not None and s.done(*CONDITIONS) is None for s in signings
        ):
            await asyncio.sleep(0.05)


async def verify(urls: dict[str, str], staff_key: str, signings: list[Signing], concurrency: int = 8) -> dict:
    """Once per completed signing, after the level: what the bus said is what the services show."""
    sem = asyncio.Semaphore(concurrency)
    failures: Counter[str] = Counter()
    async with (
        httpx.AsyncClient(headers={"Authorization": f"Bearer {staff_key}"}, timeout=30) as staff,
        httpx.AsyncClient(timeout=30, cookies=no_cookies()) as portal,
    ):

        async def one(s: Signing) -> None:
            job = s.job
            async with sem:
                r = await staff.get(
                    f"{urls['timeline']}/v1/tasks/{job.task_id}/timeline",
                    params={"audience": "staff", "kind": "task.signed", "limit": 1},
                )
                if not (r.status_code == 200 and r.json()["entries"]):
                    failures["staff_timeline"] += 1
                r = await portal.get(f"{urls['portal']}/api/v1/tasks/{job.task_id}", headers=job.customer.headers)
                if not (r.status_code == 200 and any(e["kind"] == "task.signed" for e in r.json().get("timeline", []))):
                    failures["portal_timeline"] += 1
                r = await staff.get(f"{urls['tasks']}/v1/tasks/{job.task_id}")
                if not (r.status_code == 200 and r.json()["phase"] == APPROVED):
                    failures["phase"] += 1

        done = [s for s in signings if s.done(*CONDITIONS) is not None]
        await asyncio.gather(*(one(s) for s in done))
    return {"checked": len(done), "failures": dict(failures)}


async def submit(client: httpx.AsyncClient, url: str, s: Signing, index: int) -> None:
    job = s.job
    body = {
        "fields": {"full_name": f"Klant {job.customer.index:04d}"},
        "consent": True,
        "signature": {"kind": "drawn", "png_base64": SIGNATURE_B64},
    }
    # Each customer comes from their own address (uvicorn trusts X-Forwarded-For from loopback).
    headers = {
        **job.customer.headers,
        "X-Forwarded-For": f"10.{index // 65536 % 256}.{index // 256 % 256}.{index % 256}",
    }
    s.t_submit = time.perf_counter()
    try:
        r = await client.post(f"{url}/api/v1/actions/{job.action_id}/signature", json=body, headers=headers)
        s.status = r.status_code
        if r.status_code == 201:
            s.t_accepted = time.perf_counter()
    except httpx.HTTPError as exc:
        s.status = -1
        s.error = repr(exc)


async def run_level(
    urls: dict[str, str], bootstrap: str, jobs: list[Job], rate: float | None, *, timeout: float
) -> dict:
    """Offer `jobs` at `rate` signings/s (None: all at once), wait for each to complete or time out."""
    signings = [Signing(job) for job in jobs]
    watcher = BusWatcher(bootstrap, signings)
    await watcher.start()
    client = httpx.AsyncClient(
        timeout=60, cookies=no_cookies(), limits=httpx.Limits(max_connections=200, max_keepalive_connections=200)
    )
    start = time.perf_counter()
    cpu_start = time.process_time()

    async def one(i: int, s: Signing) -> None:
        if rate:
            await asyncio.sleep(max(0.0, start + i / rate - time.perf_counter()))
        await submit(client, urls["portal"], s, i)

    try:
        await asyncio.gather(*(one(i, s) for i, s in enumerate(signings)))
        await watcher.all_done(signings, time.perf_counter() + timeout)
    finally:
        await client.aclose()
        await watcher.stop()
    end = time.perf_counter()
    return {
        **summarise(signings, rate, start, end, watcher.messages, time.process_time() - cpu_start),
        "_signings": signings,
    }


def summarise(
    signings: list[Signing], rate: float | None, start: float, end: float, watched: int, bench_cpu: float
) -> dict:
    accepted = [s for s in signings if s.t_accepted is not None]
    complete = [s for s in accepted if s.done(*CONDITIONS) is not None]
    first = min((s.t_submit for s in signings), default=start)
    last_accept = max((s.t_accepted for s in accepted), default=first)
    last_done = max((s.t_submit + s.done(*CONDITIONS) for s in complete), default=first)
    return {
        "offered_per_s": rate,
        "signings": len(signings),
        "accepted": len(accepted),
        "completed": len(complete),
        "timed_out": len(accepted) - len(complete),
        "submit_status": dict(Counter(str(s.status) for s in signings)),
        "accepted_per_s": round(len(accepted) / (last_accept - first), 2) if last_accept > first else None,
        "completed_per_s": round(len(complete) / (last_done - first), 2) if last_done > first else None,
        "window_s": round(last_done - first, 2),
        "latency": {
            "submit_http": summary_ms([s.t_accepted - s.t_submit for s in accepted]),
            "timelines_visible": summary_ms(
                [d for s in accepted if (d := s.done("staff_timeline", "portal_timeline")) is not None]
            ),
            "staff_timeline": summary_ms([d for s in accepted if (d := s.done("staff_timeline")) is not None]),
            "portal_timeline": summary_ms([d for s in accepted if (d := s.done("portal_timeline")) is not None]),
            "phase_changed": summary_ms([d for s in accepted if (d := s.done("phase")) is not None]),
        },
        "watcher": {"messages_read": watched, "bench_process_cpu_s": round(bench_cpu, 2)},
    }
