"""Server-to-server reads are bounded like webhooks: one deadline for the whole read, and no more than the
limit held, against loopback servers that trickle or stream without end."""

from __future__ import annotations

import time

import pytest

from contracts.errors import PermanentFailure
from services.runtime.internal_http import InternalFetcher
from tests.support.receivers import misbehaving_receiver


async def test_an_answer_larger_than_the_limit_is_refused_without_reading_it_all():
    async with misbehaving_receiver() as server:
        fetcher = InternalFetcher("token", timeout=10, allowed_hosts={"127.0.0.1"})
        started = time.monotonic()
        with pytest.raises(PermanentFailure, match="larger than"):
            await fetcher.get(server.url("/huge"), max_bytes=1024 * 1024)
        assert time.monotonic() - started < 5
        assert server.body_bytes_sent < 64 * 1024 * 1024
        await fetcher.aclose()


async def test_an_answer_that_trickles_ends_at_the_deadline_as_an_outage():
    async with misbehaving_receiver(trickle_every=0.1) as server:
        fetcher = InternalFetcher("token", timeout=1.5, allowed_hosts={"127.0.0.1"})
        started = time.monotonic()
        with pytest.raises(TimeoutError):  # an outage for the consumer: retried, not dead-lettered at once
            await fetcher.get(server.url("/trickle"))
        assert time.monotonic() - started < 4
        await fetcher.aclose()
