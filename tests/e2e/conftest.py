from __future__ import annotations

import httpx
import pytest

from tests.support.stack import SERVICES, TEST_OPERATOR_KEY


@pytest.fixture(scope="session")
def running(stack):
    """All six services as real processes on the real broker and database."""
    for name in SERVICES:
        stack.start(name)
    return stack


@pytest.fixture(scope="session")
def tenant(running):
    """A fresh premium tenant and its staff key, made through the operator API."""
    r = httpx.post(f"{running.running['tasks'].url}/v1/tenants", json={"name": "Installatiebedrijf Smit",
                   "plan": "premium"}, headers={"Authorization": f"Bearer {TEST_OPERATOR_KEY}"}, timeout=10)
    assert r.status_code == 201, r.text
    return r.json()
