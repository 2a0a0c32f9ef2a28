from __future__ import annotations

import time

import httpx
import pytest
from playwright.async_api import async_playwright

from tests.support.portal_browser import ARTIFACTS, CHROMIUM_ARGS
from tests.support.stack import SERVICES, TEST_OPERATOR_KEY


@pytest.fixture(scope="session")
def running(stack):
    """Every service as a real process on the real broker and database."""
    for name in SERVICES:
        stack.start(name)
    return stack


@pytest.fixture(scope="session")
def tenant(running):
    """A fresh premium tenant and its staff key, made through the operator API."""
    return new_tenant(running, "Installatiebedrijf Smit")


def new_tenant(running, name: str) -> dict:
    """A premium tenant whose staff key every staff-facing service already accepts."""
    r = httpx.post(
        f"{running.running['tasks'].url}/v1/tenants",
        json={"name": name, "plan": "premium"},
        headers={"Authorization": f"Bearer {TEST_OPERATOR_KEY}"},
        timeout=10,
    )
    assert r.status_code == 201, r.text
    tenant = r.json()
    # Other services learn the key from tasks' events: a new key works everywhere within moments.
    headers = {"Authorization": f"Bearer {tenant['staff_key']}"}
    probes = {
        "automation": "/v1/rules",
        "documents": "/v1/documents",
        "signing": "/v1/evidence?task_id=none",
        "timeline": "/v1/tasks/probe/timeline?audience=staff",
        "notifications": "/v1/notification-settings",
    }
    deadline = time.monotonic() + 30
    for name, path in probes.items():
        while True:
            status = httpx.get(f"{running.running[name].url}{path}", headers=headers, timeout=5).status_code
            if status != 401:
                break
            assert time.monotonic() < deadline, f"{name} never accepted the new staff key"
            time.sleep(0.1)
    return tenant


@pytest.fixture
async def browser():
    """Debian's Chromium, driven by Playwright, for the portal's browser tests."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    async with async_playwright() as p:
        browser = await p.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        yield browser
        await browser.close()
