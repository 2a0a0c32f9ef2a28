"""Sign-in throttling: failed attempts per account and per client address in a sliding window, kept in tasks'
database so that every replica counts the same failures. Throttling in each process would give a guesser
one allowance per replica behind the load balancer.

A key is `account:<address>` (the account's limit), `ip:<address>` (the client address's) or another prefix
(the account's limit, e.g. password-reset requests per address). Each failure is a document that the
database removes once the window has passed.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from pymongo import ASCENDING, DESCENDING
from pymongo.asynchronous.database import AsyncDatabase

from contracts import utcnow


class LoginFailures:
    def __init__(
        self,
        db: AsyncDatabase[Any],
        attempts: int,
        window_seconds: float,
        attempts_per_ip: int | None = None,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.failures = db["console_login_failures"]
        self.attempts, self.attempts_per_ip = attempts, attempts_per_ip or attempts
        self.window, self.clock = timedelta(seconds=window_seconds), clock

    async def ensure_indexes(self) -> None:
        await self.failures.create_index([("key", ASCENDING), ("at", DESCENDING)])
        await self.failures.create_index("expires_at", expireAfterSeconds=0)

    def _limit(self, key: str) -> int:
        return self.attempts_per_ip if key.startswith("ip:") else self.attempts

    async def retry_after(self, *keys: str) -> int | None:
        """Seconds until every key allows another attempt, or None when one is allowed now."""
        now, waits = self.clock(), []
        for key in keys:
            limit = self._limit(key)
            recent = (
                await self.failures.find({"key": key, "at": {"$gt": now - self.window}}, {"at": 1})
                .sort("at", DESCENDING)
                .to_list(limit)
            )
            if len(recent) >= limit:  # allowed again once the limit-th latest failure leaves the window
                waits.append(max(1, math.ceil((recent[limit - 1]["at"] + self.window - now).total_seconds())))
        return max(waits) if waits else None

    async def failed(self, *keys: str) -> None:
        now = self.clock()
        await self.failures.insert_many([{"key": key, "at": now, "expires_at": now + self.window} for key in keys])

    async def succeeded(self, key: str) -> None:
        await self.failures.delete_many({"key": key})
