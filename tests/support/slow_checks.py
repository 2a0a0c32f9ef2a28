"""Checks for the verify pool's tests: importable by its worker processes, unlike a test's own functions."""

from __future__ import annotations

import os
import time


def sleeps_then_answers(seconds: float) -> int:
    time.sleep(seconds)
    return os.getpid()
