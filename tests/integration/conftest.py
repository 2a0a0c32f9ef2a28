"""Integration tier: one service as a process against the real broker and database (the session's infra and
stack come from tests/conftest.py)."""

from __future__ import annotations

import pytest


@pytest.fixture(scope="session")
def tasks_service(stack):
    """The tasks service, running for the rest of the session."""
    return stack.start("tasks")
