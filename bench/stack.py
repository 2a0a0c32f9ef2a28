"""The full local system for the end-to-end bench: real Kafka + SecantusDB, six services as processes,
a premium tenant with the "Approve on signing" rule, customers with portal sessions, and their tasks."""

from __future__ import annotations

import asyncio
import base64
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from http.cookiejar import CookieJar, DefaultCookiePolicy

import httpx

from bench.pdf import signature_png
from tests.support.magic_link import open_link
from tests.support.stack import SERVICES, TEST_OPERATOR_KEY, Stack

RULE = {
    "name": "Approve on signing",
    "trigger": "task.signed",
    "conditions": [{"field": "task.phase", "op": "eq", "value": "Waiting for approval"}],
    "actions": [{"type": "set_phase", "phase": "Approved"}],
}
WAITING, APPROVED = "Waiting for approval", "Approved"
# Every customer logs in from one loopback address here; the portal's per-IP login bucket is meant for
# the internet, so the bench raises it (and says so) instead of pretending to be 300 addresses.
PORTAL_ENV = {"PORTAL_LOGIN_BURST": "100000", "PORTAL_LOGIN_PER_MINUTE": "100000"}
SIGNATURE_B64 = base64.b64encode(signature_png()).decode()


@dataclass
class Customer:
    index: int
    contact_id: str
    cookie: str = ""
    csrf: str = ""

    @property
    def headers(self) -> dict[str, str]:
        return {
            "Cookie": f"akkoord_session={self.cookie}",
            "X-CSRF-Token": self.csrf,
            "User-Agent": f"akkoord-bench/1 customer-{self.index}",
        }


@dataclass
class Job:
    """One signing to do: a customer's open sign_task action on a task waiting for approval."""

    customer: Customer
    task_id: str
    action_id: str


def no_cookies() -> CookieJar:
    """Shared clients must not keep one customer's Set-Cookie for the next: sessions go in headers."""
    return CookieJar(policy=DefaultCookiePolicy(allowed_domains=[]))


def start_services(stack: Stack) -> None:
    """Start the six services in parallel (each start waits for its /readyz)."""
    with ThreadPoolExecutor(len(SERVICES)) as pool:
        futures = [pool.submit(stack.start, name, PORTAL_ENV if name == "portal" else None, 120) for name in SERVICES]
        for future in futures:
            future.result()


def make_tenant(urls: dict[str, str]) -> dict:
    r = httpx.post(
        f"{urls['tasks']}/v1/tenants",
        json={"name": "Bench Installaties", "plan": "premium"},
        headers={"Authorization": f"Bearer {TEST_OPERATOR_KEY}"},
        timeout=30,
    )
    r.raise_for_status()
    tenant = r.json()
    # Other services learn the key from tasks' events: wait until each accepts it.
    headers = {"Authorization": f"Bearer {tenant['staff_key']}"}
    probes = {
        "automation": "/v1/rules",
        "signing": "/v1/evidence?task_id=none",
        "timeline": "/v1/tasks/probe/timeline?audience=staff",
        "documents": "/v1/documents",
    }
    deadline = time.monotonic() + 60
    for name, path in probes.items():
        while httpx.get(f"{urls[name]}{path}", headers=headers, timeout=10).status_code == 401:
            if time.monotonic() > deadline:
                raise RuntimeError(f"{name} never accepted the new staff key")
            time.sleep(0.2)
    return tenant


class Setup:
    """Staff-side preparation through the public APIs, with bounded concurrency."""

    def __init__(self, urls: dict[str, str], staff_key: str, concurrency: int = 8):
        self.urls = urls
        self.staff = httpx.AsyncClient(
            headers={"Authorization": f"Bearer {staff_key}"},
            timeout=60,
            limits=httpx.Limits(max_connections=concurrency),
        )
        self.portal = httpx.AsyncClient(
            timeout=60, cookies=no_cookies(), limits=httpx.Limits(max_connections=concurrency)
        )
        self.sem = asyncio.Semaphore(concurrency)

    async def close(self) -> None:
        await self.staff.aclose()
        await self.portal.aclose()

    async def _call(self, client: httpx.AsyncClient, method: str, url: str, **kwargs) -> dict:
        """A staff or portal call; a connection the server dropped (an idle keep-alive) is tried again."""
        for attempt in range(3):
            try:
                return await self._ok(await client.request(method, url, **kwargs))
            except httpx.TransportError:
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")

    async def _ok(self, response: httpx.Response) -> dict:
        if response.status_code >= 400:
            raise RuntimeError(
                f"{response.request.method} {response.request.url}: {response.status_code} {response.text[:300]}"
            )
        return response.json() if response.content else {}

    async def rule(self) -> str:
        return (await self._call(self.staff, "POST", f"{self.urls['automation']}/v1/rules", json=RULE))["id"]

    async def customer(self, index: int) -> Customer:
        async with self.sem:
            contact = await self._call(
                self.staff,
                "POST",
                f"{self.urls['tasks']}/v1/contacts",
                json={"name": f"Klant {index:04d}", "email": f"klant{index}@example.nl", "language": "nl"},
            )
            link = await self._call(
                self.staff, "POST", f"{self.urls['tasks']}/v1/contacts/{contact['id']}/portal-links"
            )
            async with httpx.AsyncClient(timeout=60, follow_redirects=False) as browser:
                r = await open_link(browser, link["url"])
                cookie = r.cookies.get("akkoord_session") or browser.cookies.get("akkoord_session")
            if not cookie:
                raise RuntimeError(f"login gave no session: {r.status_code} {r.text[:200]}")
            found = Customer(index, contact["id"], cookie)
            session = await self._call(
                self.portal, "GET", f"{self.urls['portal']}/api/v1/session", headers=found.headers
            )
            found.csrf = session["csrf_token"]
            return found

    async def job(self, customer: Customer, label: str) -> Job:
        async with self.sem:
            task = await self._call(
                self.staff,
                "POST",
                f"{self.urls['tasks']}/v1/tasks",
                json={
                    "title": f"Onderhoud {label} #{customer.index}",
                    "description": "Bench",
                    "phase": WAITING,
                    "contact_id": customer.contact_id,
                },
            )
            action = await self._call(
                self.staff,
                "POST",
                f"{self.urls['tasks']}/v1/tasks/{task['id']}/actions",
                json={
                    "contact_id": customer.contact_id,
                    "kind": "sign_task",
                    "fields": [{"name": "full_name", "label": "Name", "required": True}],
                },
            )
            return Job(customer, task["id"], action["id"])

    async def ready(self, job: Job, timeout: float = 180.0) -> None:
        """The portal lists the open action and the timeline holds the request: setup work has settled."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            async with self.sem:
                try:
                    tasks = (
                        await self.portal.get(f"{self.urls['portal']}/api/v1/tasks", headers=job.customer.headers)
                    ).json()
                    opened = any(a["id"] == job.action_id for t in tasks for a in t["open_actions"])
                    r = await self.staff.get(
                        f"{self.urls['timeline']}/v1/tasks/{job.task_id}/timeline",
                        params={"audience": "staff", "limit": 1},
                    )
                    requested = r.status_code == 200 and bool(r.json().get("entries"))
                except httpx.TransportError:
                    opened = requested = False
            if opened and requested:
                return
            await asyncio.sleep(0.2)
        raise RuntimeError(f"action {job.action_id} never became open in the portal")


def service_pids(stack: Stack) -> dict[str, int]:
    pids = {name: proc.popen.pid for name, proc in stack.running.items()}
    for proc in stack.infra.processes:
        pids[proc.name] = proc.popen.pid
    return pids
