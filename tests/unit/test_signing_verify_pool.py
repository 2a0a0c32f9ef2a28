"""The public verify endpoint's validations run in worker processes: bounded in number and in time."""

from __future__ import annotations

import asyncio
import time

import pytest

from services.signing.adapters.keys import generate_development_key
from services.signing.adapters.seal import check_pdf_against
from services.signing.adapters.verify_pool import VerifyBusy, VerifyPool, VerifyTimedOut
from tests.support.slow_checks import sleeps_then_answers


async def test_a_check_past_its_deadline_is_stopped_and_the_next_one_gets_a_fresh_worker():
    pool = VerifyPool(workers=1, timeout_seconds=1.0, queue=0, check=sleeps_then_answers)
    try:
        # given a check that would take a minute
        started = time.monotonic()
        with pytest.raises(VerifyTimedOut):
            await pool.run(60)
        # then it is stopped at its deadline (a worker's start included), not when it is done
        assert time.monotonic() - started < 20
        # and the pool goes on with a new worker
        first = await pool.run(0)
        assert isinstance(first, int)
    finally:
        await pool.close()


async def test_a_check_beyond_the_workers_and_the_queue_is_refused_at_once():
    pool = VerifyPool(workers=1, timeout_seconds=30.0, queue=0, check=sleeps_then_answers)
    try:
        busy = asyncio.create_task(pool.run(3))
        await asyncio.sleep(0)  # let it take the one worker's slot
        assert pool.admitted == 1
        started = time.monotonic()
        with pytest.raises(VerifyBusy):
            await pool.run(0)
        assert time.monotonic() - started < 0.5
        assert isinstance(await busy, int)
    finally:
        await pool.close()


async def test_a_pdf_is_checked_in_a_worker_with_the_certificate_alone():
    key = generate_development_key()
    pool = VerifyPool(workers=1, timeout_seconds=30.0, queue=0, check=check_pdf_against)
    try:
        check = await pool.run(b"%PDF-1.7 not really", key.cert_pem, {key.fingerprint})
        assert check.sealed is False and check.problem
    finally:
        await pool.close()
