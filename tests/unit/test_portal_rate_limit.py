"""The in-process token bucket behind the login and signing rate limits."""

from __future__ import annotations

from services.portal.entrypoints.ratelimit import RateLimiter


class Clock:
    def __init__(self):
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_a_burst_is_allowed_then_refused_until_tokens_refill():
    clock = Clock()
    limiter = RateLimiter(burst=3, per_minute=60, clock=clock)
    assert [limiter.retry_after("ip") for _ in range(3)] == [0, 0, 0]
    assert limiter.retry_after("ip") > 0
    clock.now += 1.0
    assert limiter.retry_after("ip") == 0


def test_keys_are_limited_separately_and_old_keys_are_forgotten():
    limiter = RateLimiter(burst=1, per_minute=1, max_keys=2, clock=Clock())
    assert limiter.retry_after("a") == 0
    assert limiter.retry_after("b") == 0
    assert limiter.retry_after("a") > 0
    limiter.retry_after("c")
    assert set(limiter.buckets) == {"a", "c"}


def test_a_failures_only_limit_checks_without_spending():
    clock = Clock()
    limiter = RateLimiter(burst=2, per_minute=60, clock=clock)
    assert [limiter.blocked_for("ip") for _ in range(10)] == [0] * 10
    limiter.retry_after("ip")
    limiter.retry_after("ip")
    assert limiter.blocked_for("ip") > 0
