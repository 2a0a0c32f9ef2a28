"""A workload of signings for the scale-out and chaos tests, and the checks of what must follow.

Tasks and their signature requests are real: made through the staff API, so that tasks, timeline and
automation know them as they would in production. The signings themselves are mostly the portal's own
message, `task.signed`, published straight to `portal.events` (what the portal's outbox relay does after a
customer signs): a thousand customers clicking through the portal would cost minutes of CPU this box does
not have, and would test the portal rather than the consumers behind it.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import re
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import httpx
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from pymongo import AsyncMongoClient

from contracts import Actor, utcnow
from contracts.messages import TaskSigned
from contracts.models import Evidence, SignatureRef, Signer, TaskSnapshot
from contracts.topics import TASKS_EVENTS
from deploy.local import infra as local_infra
from deploy.local.infra import Infra, free_port
from tests.support.bus import read_all
from tests.support.stack import TEST_OPERATOR_KEY, Stack
from tests.support.waiting import eventually

WAITING, APPROVED = "Waiting for approval", "Approved"
RULE = {
    "name": "Approve on signing",
    "trigger": "task.signed",
    "conditions": [{"field": "task.phase", "op": "eq", "value": WAITING}],
    "actions": [{"type": "set_phase", "phase": APPROVED}],
}
STAFF_PROBES = {
    "automation": "/v1/rules",
    "documents": "/v1/documents",
    "signing": "/v1/evidence?task_id=none",
    "timeline": "/v1/tasks/probe/timeline?audience=staff",
}


# -- infrastructure of our own: these tests kill and restart it, so it is never the session's --


def own_infra(workdir: Path, log_file) -> Infra:
    """A broker and a database started here whatever the environment says: the chaos test restarts them."""
    kafka_port, mongo_port = free_port(), free_port()
    infra = Infra(kafka_bootstrap=f"127.0.0.1:{kafka_port}", mongodb_uri=local_infra.mongo_uri(mongo_port))
    try:
        infra.processes.append(local_infra.start_mongo(workdir / "mongodb", mongo_port, log_file))
        infra.processes.append(local_infra.start_kafka(workdir / "kafka", kafka_port, log_file))
    except BaseException:
        infra.stop()
        raise
    return infra


# -- the workload --


@dataclass(frozen=True)
class Request:
    """A sign_task action waiting for a contact's signature."""

    task_id: str
    action_id: str
    contact_id: str
    contact_name: str
    contact_email: str


def signed(tenant_id: str, request: Request, image_url: str) -> TaskSigned:
    """The message the portal emits when the contact signs `request` (see services/portal/handlers/signing.py)."""
    now = utcnow()
    return TaskSigned(
        tenant_id=tenant_id,
        task_id=request.task_id,
        actor=Actor(kind="contact", id=request.contact_id, name=request.contact_name),
        payload=dict(
            action_id=request.action_id,
            signer=Signer(contact_id=request.contact_id, name=request.contact_name, email=request.contact_email),
            fields={"full_name": request.contact_name},
            signature=SignatureRef(
                signature_id=f"sig-{request.action_id}",
                kind="typed",
                image_digest=hashlib.sha256(request.action_id.encode()).hexdigest(),
                image_url=image_url,
            ),
            evidence=Evidence(
                signed_at=now,
                ip="192.0.2.10",
                user_agent="scale-test",
                session_id="load",
                auth_method="magic_link",
                consent_text="Ik ga akkoord.",
                consent_version="1",
            ),
            task=TaskSnapshot(
                task_id=request.task_id,
                title=f"Task {request.task_id[:8]}",
                phase=WAITING,
                contact_id=request.contact_id,
            ),
        ),
    )


async def new_tenant(urls: dict[str, str], name: str) -> dict:
    """A premium tenant whose staff key every running staff-facing service already accepts."""
    async with httpx.AsyncClient(timeout=10) as client:
        r = await client.post(
            f"{urls['tasks']}/v1/tenants",
            json={"name": name, "plan": "premium"},
            headers={"Authorization": f"Bearer {TEST_OPERATOR_KEY}"},
        )
        assert r.status_code == 201, r.text
        tenant = r.json()
        headers = {"Authorization": f"Bearer {tenant['staff_key']}"}
        for service, path in STAFF_PROBES.items():
            if service in urls:

                async def accepted(url=f"{urls[service]}{path}"):
                    return (await client.get(url, headers=headers)).status_code != 401

                await eventually(accepted, timeout=60, what=f"{service} accepting the new staff key")
    return tenant


async def request_signatures(
    tasks_url: str, staff_key: str, count: int, *, contacts: int = 10, concurrency: int = 12
) -> list[Request]:
    """`count` tasks waiting for approval, each with one sign_task action for one of `contacts` contacts."""
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(
        base_url=tasks_url, timeout=60, limits=limits, headers={"Authorization": f"Bearer {staff_key}"}
    ) as staff:

        async def ok(response: httpx.Response) -> dict:
            assert response.status_code == 201, response.text
            return response.json()

        people = [
            await ok(
                await staff.post(
                    "/v1/contacts",
                    json={
                        "name": f"Klant {i}",
                        "email": f"klant{i}@example.nl",
                        "company": f"Bedrijf {i}",
                        "language": "nl",
                    },
                )
            )
            for i in range(contacts)
        ]
        slots = asyncio.Semaphore(concurrency)

        async def one(i: int) -> Request:
            contact = people[i % len(people)]
            async with slots:
                task = await ok(
                    await staff.post(
                        "/v1/tasks", json={"title": f"Onderhoud {i}", "phase": WAITING, "contact_id": contact["id"]}
                    )
                )
                action = await ok(
                    await staff.post(
                        f"/v1/tasks/{task['id']}/actions",
                        json={
                            "contact_id": contact["id"],
                            "kind": "sign_task",
                            "fields": [{"name": "full_name", "label": "Name", "required": True}],
                        },
                    )
                )
            return Request(task["id"], action["id"], contact["id"], contact["name"], contact["email"])

        return list(await asyncio.gather(*(one(i) for i in range(count))))


async def publish(bootstrap: str, topic: str, messages: list, times: int = 1) -> None:
    """Publish every message `times` times (a redelivering producer), keyed by task as the relay does."""
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all", enable_idempotence=True, linger_ms=5)
    await producer.start()
    try:
        sent = [
            await producer.send(
                topic,
                m.model_dump_json().encode(),
                key=m.key.encode(),
                headers=[("type", m.type.encode()), ("content-type", b"application/json")],
            )
            for m in messages
            for _ in range(times)
        ]
        await asyncio.gather(*sent)
    finally:
        await producer.stop()


async def publish_raw(bootstrap: str, topic: str, values: list) -> None:
    """Publish bytes as they are (poison), or envelopes once."""
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all", enable_idempotence=True)
    await producer.start()
    try:
        for value in values:
            raw = value if isinstance(value, bytes) else value.model_dump_json().encode()
            await producer.send_and_wait(topic, raw, key=b"poison")
    finally:
        await producer.stop()


async def read_topic(bootstrap: str, topic: str) -> list[dict]:
    """Every record on `topic` up to its current end, its headers under `_headers`."""
    return [
        {**body, "_headers": headers} if isinstance(body, dict) else {"raw": body}
        for body, headers in await read_all(bootstrap, topic, timeout=30)
    ]


# -- what the services recorded --


class Records:
    """Reads the services' own databases directly: the ground truth, not an API's page of it."""

    def __init__(self, mongodb_uri: str, tenant_id: str):
        self.client = AsyncMongoClient(mongodb_uri, tz_aware=True, serverSelectionTimeoutMS=30_000)
        self.tenant_id = tenant_id
        self.entries = self.client["akkoord_timeline"]["timeline_entries"]
        self.runs = self.client["akkoord_automation"]["rule_runs"]
        self.actions = self.client["akkoord_tasks"]["actions"]
        self.tasks = self.client["akkoord_tasks"]["tasks"]

    async def close(self) -> None:
        await self.client.close()

    async def entries_of_kind(self, kind: str, audience: str) -> int:
        return await self.entries.count_documents({"tenant_id": self.tenant_id, "kind": kind, "audience": audience})

    async def signed_tasks(self, audience: str) -> set[str]:
        return set(
            await self.entries.distinct(
                "task_id", {"tenant_id": self.tenant_id, "kind": "task.signed", "audience": audience}
            )
        )

    async def duplicate_entries(self) -> list[dict]:
        """Entries telling the same thing twice: in this workload each kind appears once per task and audience
        (one action per task, one phase change)."""
        return await (
            await self.entries.aggregate(
                [
                    {"$match": {"tenant_id": self.tenant_id}},
                    {
                        "$group": {
                            "_id": {"task": "$task_id", "audience": "$audience", "kind": "$kind"},
                            "n": {"$sum": 1},
                        }
                    },
                    {"$match": {"n": {"$gt": 1}}},
                ]
            )
        ).to_list(None)

    async def broken_chains(self) -> list[dict]:
        """Chains whose positions are not exactly 1..n (a gap, or one position taken twice)."""
        return await (
            await self.entries.aggregate(
                [
                    {"$match": {"tenant_id": self.tenant_id}},
                    {
                        "$group": {
                            "_id": {"task": "$task_id", "audience": "$audience"},
                            "n": {"$sum": 1},
                            "max": {"$max": "$seq"},
                            "seqs": {"$addToSet": "$seq"},
                        }
                    },
                    {"$project": {"n": 1, "max": 1, "distinct": {"$size": "$seqs"}}},
                    {"$match": {"$expr": {"$or": [{"$ne": ["$n", "$max"]}, {"$ne": ["$n", "$distinct"]}]}}},
                ]
            )
        ).to_list(None)

    async def count_runs(self, rule_id: str) -> int:
        return await self.runs.count_documents(
            {"tenant_id": self.tenant_id, "rule_id": rule_id, "event_type": "task.signed"}
        )

    async def runs_per_event(self, rule_id: str) -> Counter:
        docs = await self.runs.find(
            {"tenant_id": self.tenant_id, "rule_id": rule_id, "event_type": "task.signed"}, {"event_id": 1}
        ).to_list(None)
        return Counter(d["event_id"] for d in docs)

    async def sealed_certificates(self) -> int:
        return await self.client["akkoord_signing"]["sealed_pdfs"].count_documents(
            {"tenant_id": self.tenant_id, "kind": "approval_certificate"}
        )

    async def completed_actions(self) -> int:
        return await self.actions.count_documents({"tenant_id": self.tenant_id, "status": "completed"})

    async def tasks_in(self, phase: str) -> int:
        return await self.tasks.count_documents({"tenant_id": self.tenant_id, "phase": phase})


class PhaseTally:
    """The tenant's tasks whose phase changed, counted from tasks.events as it grows: a probe for "settled"
    that costs the database nothing (a count over a growing collection is a scan in the local server)."""

    def __init__(self, bootstrap: str, tenant_id: str):
        self.tenant_id = tenant_id
        self.tasks: set[str] = set()
        self.consumer = AIOKafkaConsumer(
            TASKS_EVENTS,
            bootstrap_servers=bootstrap,
            group_id=None,
            enable_auto_commit=False,
            auto_offset_reset="earliest",
        )
        self.reader: asyncio.Task | None = None

    async def start(self) -> PhaseTally:
        await self.consumer.start()
        self.reader = asyncio.create_task(self._read())
        return self

    async def stop(self) -> None:
        self.reader.cancel()
        await asyncio.gather(self.reader, return_exceptions=True)
        await self.consumer.stop()

    async def _read(self) -> None:
        while True:
            for records in (await self.consumer.getmany(timeout_ms=500)).values():
                for r in records:
                    try:
                        body = json.loads(r.value)
                    except ValueError:
                        continue
                    if body.get("type") == "task.phase_changed" and body.get("tenant_id") == self.tenant_id:
                        self.tasks.add(body["task_id"])

    @property
    def changed(self) -> int:
        return len(self.tasks)


def phase_changes_per_task(records: list[dict], tenant_id: str) -> Counter:
    """Distinct task.phase_changed events per task. The same event can be on the topic twice (the relay
    published it, then died before marking it published; consumers know it by its id): that is one change."""
    return Counter(
        task_id
        for task_id, _ in {
            (r["task_id"], r["event_id"])
            for r in records
            if r.get("type") == "task.phase_changed" and r.get("tenant_id") == tenant_id
        }
    )


METRIC = re.compile(r"^akkoord_events_total\{(?P<labels>[^}]*)\} (?P<value>[0-9.e+]+)$", re.M)


def handled(metrics_text: str, group: str, type_: str) -> float:
    """How many `type_` messages the process handled for `group` (its /metrics)."""
    total = 0.0
    for match in METRIC.finditer(metrics_text):
        labels = dict(part.split("=", 1) for part in match["labels"].split(","))
        labels = {k: v.strip('"') for k, v in labels.items()}
        if labels.get("group") == group and labels.get("type") == type_ and labels.get("outcome") == "handled":
            total += float(match["value"])
    return total


async def handled_by(url: str, group: str, type_: str) -> float:
    """`url`: the process's operations port."""
    async with httpx.AsyncClient(timeout=5) as client:
        return handled((await client.get(f"{url}/metrics")).text, group, type_)


def start_stack(stack: Stack, names: list[str]) -> dict[str, str]:
    return {name: stack.start(name).url for name in names}


def cpu_seconds(pid: int) -> float:
    """User + system CPU a process has used so far (Linux /proc), to report what the workload cost."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def cpu_of(stack: Stack) -> dict[str, float]:
    procs = {
        **{n: p.popen.pid for n, p in stack.running.items()},
        **{n: p.popen.pid for n, p in stack.replicas.items()},
        **{p.name: p.popen.pid for p in stack.infra.processes},
    }
    return {name: round(cpu_seconds(pid), 1) for name, pid in procs.items()}


def restart_infra(infra: Infra, name: str, data_dir: Path, log_file) -> float:
    """Stop the broker ("kafka") or the database ("mongodb") and start it again on its port and data; seconds away."""
    began = time.monotonic()
    old = next(p for p in infra.processes if p.name == name)
    old.stop()
    if name == "kafka":
        new = local_infra.start_kafka(data_dir / "kafka", int(infra.kafka_bootstrap.rsplit(":", 1)[1]), log_file)
    else:
        new = local_infra.start_mongo(data_dir / "mongodb", int(urlsplit(infra.mongodb_uri).port), log_file)
    infra.processes[infra.processes.index(old)] = new
    return time.monotonic() - began


# What the clients log, and then retry, while the broker or the database is away: expected during a restart.
# A batch whose attempt count cannot be written while the database restarts is nacked and fetched again;
# faststream logs the driver's error for it ("AutoReconnect: ... connection pool paused").
OUTAGE = re.compile(
    r"^(aiokafka|pymongo)|Kafka error occurred|outbox relay paused"
    r"|^(AutoReconnect|ServerSelectionTimeoutError|NetworkTimeout|ConnectionFailure)\b"
)


def errors_in_logs(stack: Stack) -> tuple[dict[str, list[str]], int]:
    """Unhandled errors each service logged (tracebacks, errors), and how many lines only reported an outage.

    A message dead-lettered on purpose is handled; so is a client reconnecting to a restarted broker."""
    found, outage = {}, 0
    for name, proc in [*stack.running.items(), *stack.replicas.items()]:
        lines = []
        for line in proc.log().splitlines():
            try:
                record = json.loads(line)
            except ValueError:
                record = {"level": "ERROR" if "Traceback" in line else "", "message": line}
            if not ("Traceback" in line or record.get("level") in ("ERROR", "CRITICAL")):
                continue
            message = str(record.get("message", ""))
            if message.startswith("dead-lettering"):
                continue
            if OUTAGE.search(str(record.get("logger", ""))) or OUTAGE.search(message):
                outage += 1
                continue
            lines.append(line[:2000])
        if lines:
            found[name] = lines
    return found, outage
