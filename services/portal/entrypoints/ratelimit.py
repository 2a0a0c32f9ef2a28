"""In-process token buckets: per replica, reset on restart. Enough to blunt guessing and floods; a shared
limiter (e.g. at the ingress) is the production answer for many replicas."""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable


class TokenBucket:
    def __init__(self, burst: int, per_minute: int, clock: Callable[[], float] = time.monotonic):
        self.capacity = float(burst)
        self.rate = per_minute / 60.0
        self.clock = clock
        self.tokens = float(burst)
        self.updated = clock()

    def take(self, consume: bool = True) -> float:
        """0 when allowed (a token is used unless `consume` is False); otherwise seconds until a token is back."""
        now = self.clock()
        self.tokens = min(self.capacity, self.tokens + (now - self.updated) * self.rate)
        self.updated = now
        if self.tokens >= 1:
            if consume:
                self.tokens -= 1
            return 0.0
        return (1 - self.tokens) / self.rate if self.rate else 60.0


class RateLimiter:
    """One bucket per key (client IP, session), the least recently used forgotten past `max_keys`."""

    def __init__(
        self, burst: int, per_minute: int, max_keys: int = 10_000, clock: Callable[[], float] = time.monotonic
    ):
        self.burst, self.per_minute, self.max_keys, self.clock = burst, per_minute, max_keys, clock
        self.buckets: OrderedDict[str, TokenBucket] = OrderedDict()

    def _bucket(self, key: str) -> TokenBucket:
        bucket = self.buckets.pop(key, None) or TokenBucket(self.burst, self.per_minute, self.clock)
        self.buckets[key] = bucket
        while len(self.buckets) > self.max_keys:
            self.buckets.popitem(last=False)
        return bucket

    def take(self, key: str) -> float:
        """Spend a token for `key`: 0 when allowed, else the seconds to wait (nothing is spent then)."""
        return self._bucket(key).take()

    def retry_after(self, key: str) -> float:
        """0 when `key` may go on, else the seconds to wait; spends nothing (for limits that count failures)."""
        return self._bucket(key).take(consume=False)
