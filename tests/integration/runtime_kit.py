"""Helpers for the runtime kit's integration tests."""

from __future__ import annotations

import uuid

from contracts import Actor
from contracts.messages import TaskCreated, TaskPayload
from contracts.models import TaskSnapshot


def task_created(tenant: str, title: str = "Repair", task_id: str | None = None) -> TaskCreated:
    task_id = task_id or uuid.uuid4().hex
    return TaskCreated(
        tenant_id=tenant,
        task_id=task_id,
        actor=Actor(kind="staff", id="k1"),
        payload=TaskPayload(task=TaskSnapshot(task_id=task_id, title=title, phase="New")),
    )
