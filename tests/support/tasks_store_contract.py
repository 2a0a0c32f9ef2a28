"""What the tasks service's handlers expect of their store, written once and run against both the in-memory
fake that handler unit tests use (tests/unit/test_tasks_store_contract.py) and MongoDB
(tests/integration/test_tasks_store_contract.py), so the fake cannot drift from the real store unnoticed."""

from __future__ import annotations

import pytest

from contracts import new_id
from contracts.errors import NotFound
from services.tasks.domain import DocumentVersion, Task
from services.tasks.unit_of_work import now


def a_task(tenant_id: str, phase: str = "Waiting for approval") -> Task:
    at = now()
    return Task(id=new_id(), tenant_id=tenant_id, title="Kitchen", phase=phase, created_at=at, updated_at=at)


class TasksStoreContract:
    @pytest.fixture
    def store(self):
        raise NotImplementedError("a subclass provides the store under test")

    async def test_a_tenant_reads_back_with_its_phases(self, store):
        tenant_id = new_id()
        await store.insert_tenant(tenant_id, "Bouw BV", "premium", ["New", "Done"], None)
        tenant = await store.get_tenant(tenant_id)
        assert (tenant["name"], tenant["plan"], tenant["phases"]) == ("Bouw BV", "premium", ["New", "Done"])
        with pytest.raises(NotFound):
            await store.get_tenant(new_id())

    async def test_a_saved_task_reads_back_in_its_own_tenant_only(self, store):
        task = a_task(new_id())
        await store.save_task(task, None)
        assert await store.get_task(task.tenant_id, task.id) == task
        with pytest.raises(NotFound):
            await store.get_task(new_id(), task.id)

    async def test_a_phase_is_changed_only_from_the_phase_the_writer_saw(self, store):
        task = a_task(new_id())
        await store.save_task(task, None)
        moved = task.model_copy(update={"phase": "Approved"})
        assert await store.compare_and_set_phase(moved, "Waiting for approval", None) is True
        stale = task.model_copy(update={"phase": "Rejected"})
        assert await store.compare_and_set_phase(stale, "Waiting for approval", None) is False
        assert (await store.get_task(task.tenant_id, task.id)).phase == "Approved"

    async def test_another_tenants_task_is_not_moved(self, store):
        task = a_task(new_id())
        await store.save_task(task, None)
        intruder = task.model_copy(update={"tenant_id": new_id(), "phase": "Approved"})
        assert await store.compare_and_set_phase(intruder, "Waiting for approval", None) is False
        assert (await store.get_task(task.tenant_id, task.id)).phase == "Waiting for approval"

    async def test_a_document_version_is_found_in_its_own_tenant_only(self, store):
        version = DocumentVersion(
            document_id=new_id(),
            tenant_id=new_id(),
            version_id=new_id(),
            version=2,
            digest="ab" * 32,
            title="Work order",
        )
        await store.save_document_version(version, None)
        assert await store.find_document(version.tenant_id, version.document_id) == version
        assert await store.find_document(new_id(), version.document_id) is None
