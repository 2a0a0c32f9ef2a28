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
    assert [limiter.take("ip") for _ in range(3)] == [0, 0, 0]
    assert limiter.take("ip") > 0
    clock.now += 1.0
    assert limiter.take("ip") == 0


def test_keys_are_limited_separately_and_old_keys_are_forgotten():
    limiter = RateLimiter(burst=1, per_minute=1, max_keys=2, clock=Clock())
    assert limiter.take("a") == 0
    assert limiter.take("b") == 0
    assert limiter.take("a") > 0
    limiter.take("c")
    assert set(limiter.buckets) == {"a", "c"}


def test_asking_when_to_retry_spends_no_token():
    clock = Clock()
    limiter = RateLimiter(burst=2, per_minute=60, clock=clock)
    assert [limiter.retry_after("ip") for _ in range(10)] == [0] * 10
    limiter.take("ip")
    limiter.take("ip")
    assert limiter.retry_after("ip") > 0


def test_retry_after_tells_the_wait_once_the_tokens_are_spent_without_lengthening_it():
    clock = Clock()
    limiter = RateLimiter(burst=1, per_minute=60, clock=clock)
    limiter.take("ip")
    waits = [limiter.retry_after("ip") for _ in range(5)]
    assert waits == [1.0] * 5
    clock.now += 1.0
    assert limiter.take("ip") == 0
