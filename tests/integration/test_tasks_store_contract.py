"""The tasks service's MongoDB store keeps the contract its handlers (and their unit tests' fake) rely on."""

from __future__ import annotations

import pytest

from services.runtime.mongo import connect
from services.tasks.adapters.mongo import TasksStore
from tests.support.tasks_store_contract import TasksStoreContract


class TestTheMongoStore(TasksStoreContract):
    @pytest.fixture
    async def store(self, infra):
        client = connect(infra.mongodb_uri)
        yield TasksStore(client["akkoord_tasks_store_contract"])
        await client.close()
