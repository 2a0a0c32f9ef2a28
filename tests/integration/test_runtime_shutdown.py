"""A service stops promptly on SIGTERM even when the broker and the database are already gone (an
orchestrator that stops everything at once, a machine shutting down)."""

from __future__ import annotations

import signal
import subprocess
import time

from deploy.local import infra as local_infra
from deploy.local.infra import free_port
from tests.support.stack import Stack


def test_a_service_exits_within_ten_seconds_of_sigterm_when_broker_and_database_are_gone(tmp_path):
    # given a service running against infrastructure of its own (this test stops it)
    with open(tmp_path / "infra.log", "ab") as log:
        own = local_infra.start(tmp_path / "infra", free_port(), free_port(), log_file=log)
        try:
            stack = Stack(infra=own, workdir=tmp_path)
            service = stack.start("automation", timeout=120)
            # when the broker and the database go away, and then the service is asked to stop
            own.stop()
            started = time.monotonic()
            service.popen.send_signal(signal.SIGTERM)
            # then it is gone within 10 s
            try:
                service.popen.wait(10)
            except subprocess.TimeoutExpired:
                service.popen.kill()
                raise AssertionError(f"still running 10 s after SIGTERM:\n{service.log()[-3000:]}") from None
            assert time.monotonic() - started < 10
        finally:
            own.stop()
