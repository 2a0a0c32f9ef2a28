"""`make run` guards: a second instance says so instead of failing on a taken port."""

from __future__ import annotations

import fcntl
import subprocess
import sys


def test_a_second_make_run_says_one_is_already_running(tmp_path):
    # given a running instance holding the lock in the data directory
    with open(tmp_path / "run.lock", "a+") as held:
        fcntl.flock(held, fcntl.LOCK_EX | fcntl.LOCK_NB)
        held.write("4242")
        held.flush()
        # when another one starts
        result = subprocess.run([sys.executable, "-m", "deploy.local.run"], capture_output=True, text=True,
                                env={"AKKOORD_DATA_DIR": str(tmp_path), "PATH": "/usr/bin:/bin"}, timeout=60)
    # then it refuses clearly, naming the running one, and started nothing
    assert result.returncode != 0
    assert "already running" in result.stderr and "4242" in result.stderr
    assert not (tmp_path / "kafka").exists() and not (tmp_path / "mongodb").exists()
