"""Sign-in throttling's failure counts in the real database: shared by every replica, by account and address."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest

from contracts import utcnow
from services.runtime.mongo import connect
from services.tasks.adapters.login_failures import LoginFailures


class Clock:
    def __init__(self) -> None:
        self.now = utcnow()

    def __call__(self):
        return self.now


@pytest.fixture
async def db(infra):
    client = connect(infra.mongodb_uri)
    yield client[f"login_{uuid.uuid4().hex[:8]}"]
    await client.close()


async def test_sign_in_is_refused_after_the_allowed_failures_until_the_window_passes_and_a_success_clears_it(db):
    clock = Clock()
    limiter = LoginFailures(db, attempts=2, window_seconds=60, attempts_per_ip=3, clock=clock)
    await limiter.ensure_indexes()
    await limiter.failed("account:a", "ip:1")
    assert await limiter.retry_after("account:a", "ip:1") is None
    clock.now += timedelta(seconds=10)
    await limiter.failed("account:a", "ip:1")
    assert await limiter.retry_after("account:a") == 50  # until the first failure leaves the 60 s window
    await limiter.failed("account:b", "ip:1")  # the address's third failure in the window, over two accounts
    assert await limiter.retry_after("account:c", "ip:1") == 50
    clock.now += timedelta(seconds=50)
    assert await limiter.retry_after("account:a", "ip:1") is None

    await limiter.failed("account:a")
    assert await limiter.retry_after("account:a") == 10
    await limiter.succeeded("account:a")
    assert await limiter.retry_after("account:a") is None


async def test_replicas_count_the_same_failures(db):
    replicas = [LoginFailures(db, attempts=3, window_seconds=300) for _ in range(3)]
    for replica in replicas:
        await replica.failed("account:a")
    assert all([await r.retry_after("account:a") for r in replicas])
