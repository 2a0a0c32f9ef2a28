"""Sign-in throttling: failed attempts per account and per client address in a sliding window.

In-process (per replica), like the portal's limits: with N replicas an attacker gets at most N times the
allowance, which still turns a password guess into a slow crawl.
"""

from __future__ import annotations

import time
from collections import defaultdict, deque


class LoginLimiter:
    def __init__(self, attempts: int, window_seconds: float, attempts_per_ip: int | None = None):
        self.attempts, self.window = attempts, window_seconds
        self.attempts_per_ip = attempts_per_ip or attempts
        self.failures: dict[str, deque[float]] = defaultdict(deque)

    def _recent(self, key: str, at: float) -> deque[float]:
        failures = self.failures[key]
        while failures and failures[0] <= at - self.window:
            failures.popleft()
        return failures

    def retry_after(self, *keys: str) -> int | None:
        """Seconds until another attempt is allowed for every key, or None when one is allowed now."""
        at, waits = time.monotonic(), []
        for key in keys:
            failures = self._recent(key, at)
            if len(failures) >= (self.attempts_per_ip if key.startswith("ip:") else self.attempts):
                waits.append(int(failures[0] + self.window - at) + 1)
        if not waits:
            return None
        return max(waits)

    def failed(self, *keys: str) -> None:
        at = time.monotonic()
        for key in keys:
            self._recent(key, at).append(at)
        if len(self.failures) > 100_000:  # a flood of made-up addresses must not grow memory forever
            for key in [k for k, v in self.failures.items() if not self._recent(k, at)]:
                del self.failures[key]

    def succeeded(self, key: str) -> None:
        self.failures.pop(key, None)
