"""A service started without AKKOORD_ENV is a production service: on placeholder secrets it exits at once."""

from __future__ import annotations

import os
import subprocess
import sys

LEAKY = "not-a-real-secret-but-never-print-me"


def test_a_service_started_without_akkoord_env_on_placeholder_secrets_exits_with_a_clear_message():
    # Given the environment of a deployment that forgot AKKOORD_ENV and a real link secret
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AKKOORD_", "PORTAL_", "TASKS_"))}
    env["AKKOORD_INTERNAL_TOKEN"] = LEAKY
    # When the portal starts
    done = subprocess.run(
        [sys.executable, "-m", "services.portal"], env=env, capture_output=True, text=True, timeout=60
    )
    # Then it refuses before serving, says what to set, and prints no secret it was given
    assert done.returncode != 0
    assert "refusing to start outside development" in done.stderr
    assert "AKKOORD_PORTAL_LINK_SECRET" in done.stderr and "AKKOORD_ENV=development" in done.stderr
    assert LEAKY not in done.stderr + done.stdout
