"""Runtime.every: a service's periodic job keeps its rhythm through a failing pass."""

from __future__ import annotations

import asyncio
import logging

from pymongo.errors import AutoReconnect

from services.runtime.app import build_runtime
from services.runtime.config import ServiceSettings
from tests.support.waiting import eventually


async def test_a_failing_pass_is_logged_and_the_next_one_comes(caplog):
    runtime = build_runtime("test", ServiceSettings())  # builds clients; connects to nothing until used
    passes: list[int] = []

    async def job():
        passes.append(len(passes))
        if len(passes) == 2:
            raise RuntimeError("the database is away")

    runtime.every(0.01, job, "probe-job")
    [repeat] = runtime.background
    assert repeat.__name__ == "probe-job"

    async def went_on() -> bool:
        return len(passes) >= 4

    with caplog.at_level(logging.ERROR):
        running = asyncio.create_task(repeat())
        try:
            await eventually(went_on, what="passes after the failed one")
        finally:
            running.cancel()
            await asyncio.gather(running, return_exceptions=True)
    assert running.cancelled()
    assert [r.getMessage() for r in caplog.records if "probe-job failed" in r.getMessage()] == [
        "probe-job failed; trying again in 0.01 s"
    ]
    await runtime.client.close()


async def test_a_pass_that_finds_the_database_away_is_an_outage_warning_without_a_traceback(caplog):
    runtime = build_runtime("test", ServiceSettings())
    passes: list[int] = []

    async def job():
        passes.append(len(passes))
        if len(passes) == 1:
            raise AutoReconnect("127.0.0.1:27017: connection pool paused")

    runtime.every(0.01, job, "probe-job")
    [repeat] = runtime.background

    async def went_on() -> bool:
        return len(passes) >= 2

    with caplog.at_level(logging.WARNING):
        running = asyncio.create_task(repeat())
        try:
            await eventually(went_on, what="a pass after the outage")
        finally:
            running.cancel()
            await asyncio.gather(running, return_exceptions=True)
    [record] = [r for r in caplog.records if "probe-job" in r.getMessage()]
    assert record.levelno == logging.WARNING and record.exc_info is None
    assert record.getMessage() == (
        "probe-job paused, the database is unreachable: 127.0.0.1:27017: connection pool paused"
    )
    await runtime.client.close()
