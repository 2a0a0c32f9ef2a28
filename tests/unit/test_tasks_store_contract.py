"""The in-memory store the tasks handler tests use keeps the real store's contract."""

from __future__ import annotations

import pytest

from tests.support.tasks_store_contract import TasksStoreContract
from tests.unit.tasks_fakes import FakeStore


class TestTheFakeStore(TasksStoreContract):
    @pytest.fixture
    def store(self):
        return FakeStore()
