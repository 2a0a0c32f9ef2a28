"""Wait on a condition with a deadline: never a bare sleep."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Any


async def eventually(
    probe: Callable[[], Awaitable[Any]], *, timeout: float = 20, interval: float = 0.1, what: str = "condition"
) -> Any:
    """Await `probe` until it returns something truthy; fail with the last value after `timeout`."""
    deadline = time.monotonic() + timeout
    last: Any = None
    while time.monotonic() < deadline:
        try:
            last = await probe()
        except AssertionError as exc:
            last = exc
        else:
            if last:
                return last
        await asyncio.sleep(interval)
    raise AssertionError(f"{what} did not hold within {timeout}s; last value: {last!r}")
