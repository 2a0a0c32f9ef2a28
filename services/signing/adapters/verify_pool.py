"""Validating PDFs that anyone may upload, in worker processes that are stopped at a deadline.

pyHanko on a hostile PDF can take as long as the file wants; a thread cannot be stopped, so the check
runs in one of a few worker processes (pebble), and a check past its deadline has its process killed
and replaced. The number of checks running and waiting is bounded: past it, the caller is told at once.
"""

from __future__ import annotations

import asyncio
import multiprocessing
from collections.abc import Callable
from concurrent.futures import TimeoutError as FutureTimeout
from typing import Any

from pebble import ProcessPool

from services.signing.adapters.seal import SealCheck, check_pdf_against


class VerifyBusy(Exception):
    """Every worker is busy and the queue is full."""


class VerifyTimedOut(Exception):
    """The check passed its deadline and was stopped."""


class VerifyPool:
    def __init__(self, workers: int, timeout_seconds: float, queue: int, check: Callable[..., Any] = check_pdf_against):
        self.workers, self.timeout, self.queue, self.check = workers, timeout_seconds, queue, check
        self.slots = asyncio.Semaphore(workers)
        self.admitted = 0
        self._pool: ProcessPool | None = None

    def _started(self) -> ProcessPool:
        if self._pool is None:
            # forkserver: workers do not inherit the service's threads and sockets (a fork of an
            # asyncio process with Kafka and MongoDB clients in it is not safe); pyHanko is loaded once
            # in the fork server, so a replaced worker is ready at once.
            context = multiprocessing.get_context("forkserver")
            context.set_forkserver_preload(["services.signing.adapters.seal"])
            self._pool = ProcessPool(max_workers=self.workers, context=context)
        return self._pool

    async def warm(self) -> None:
        """Start the fork server and the workers now (pyHanko takes seconds to load), not on the first
        request; returns at once."""
        self._started().schedule(_ready)

    async def run(self, *args: Any) -> SealCheck:
        """`check(*args)` in a worker; VerifyBusy when too many wait, VerifyTimedOut past the deadline."""
        if self.admitted >= self.workers + self.queue:
            raise VerifyBusy()
        self.admitted += 1
        try:
            try:
                # a request does not wait for a worker longer than a check may take
                await asyncio.wait_for(self.slots.acquire(), self.timeout)
            except TimeoutError as exc:
                raise VerifyBusy() from exc
            try:
                future = self._started().schedule(self.check, args=args, timeout=self.timeout)
                try:
                    return await asyncio.wrap_future(future)
                except FutureTimeout as exc:  # pebble has killed the worker and starts another
                    raise VerifyTimedOut() from exc
            finally:
                self.slots.release()
        finally:
            self.admitted -= 1

    async def close(self) -> None:
        if self._pool is not None:
            self._pool.stop()
            await asyncio.to_thread(self._pool.join, 10)
            self._pool = None


def _ready() -> None:
    """A worker's first task: it exists once this has run."""
