"""Tasks, their phases (per tenant, editable) and staff-driven phase changes with compare-and-set."""

from __future__ import annotations

from typing import Any

from contracts import Actor, Envelope, new_id
from contracts.errors import Conflict
from contracts.messages import PhaseChangedPayload, TaskCreated, TaskPayload, TaskPhaseChanged, TaskUpdated
from contracts.topics import TASKS_EVENTS
from services.runtime.mongo import Session
from services.runtime.staff_auth import Staff
from services.tasks.adapters.idempotency import IdempotencyKey
from services.tasks.domain import PhaseMismatch, Task, normalise_phases, require_phase
from services.tasks.handlers.views import task_view
from services.tasks.unit_of_work import UnitOfWork, commit, now, staff_actor


async def phases_of(uow: UnitOfWork, tenant_id: str, session: Session | None = None) -> list[str]:
    return list((await uow.store.get_tenant(tenant_id, session))["phases"])


async def create_task(
    uow: UnitOfWork,
    staff: Staff,
    *,
    title: str,
    description: str,
    phase: str | None,
    contact_id: str | None,
    idem: IdempotencyKey | None = None,
) -> dict:
    async def work(session: Session) -> dict:
        phases = await phases_of(uow, staff.tenant_id, session)
        start = phase if phase is not None else phases[0]
        require_phase(phases, start)
        if contact_id is not None:
            (await uow.store.get_contact(staff.tenant_id, contact_id, session)).require_active()
        at = now()
        task = Task(
            id=new_id(),
            tenant_id=staff.tenant_id,
            title=title,
            description=description,
            phase=start,
            contact_id=contact_id,
            created_at=at,
            updated_at=at,
        )
        await _save(uow, session, task, staff, TaskCreated)
        return task_view(task, [])

    return await commit(uow, work, idem)


async def get_task(uow: UnitOfWork, staff: Staff, task_id: str) -> dict:
    task = await uow.store.get_task(staff.tenant_id, task_id)
    return task_view(task, await uow.store.actions_of(staff.tenant_id, task.id))


async def list_tasks(
    uow: UnitOfWork,
    staff: Staff,
    *,
    phase: str | None,
    contact_id: str | None,
    has_open_action: bool | None,
    sort: str,
    limit: int,
    offset: int,
) -> list[dict]:
    tasks = await uow.store.list_tasks(
        staff.tenant_id,
        phase=phase,
        contact_id=contact_id,
        has_open_action=has_open_action,
        sort=sort,
        limit=limit,
        offset=offset,
    )
    return [task_view(t) for t in tasks]


async def update_task(uow: UnitOfWork, staff: Staff, task_id: str, changes: dict[str, Any]) -> dict:
    """Change title, description or contact; the phase has its own compare-and-set route."""

    async def work(session: Session) -> dict:
        task = await uow.store.get_task(staff.tenant_id, task_id, session)
        if changes.get("contact_id") is not None:
            (await uow.store.get_contact(staff.tenant_id, changes["contact_id"], session)).require_active()
        if any(getattr(task, k) != v for k, v in changes.items()):
            task = task.model_copy(update={**changes, "updated_at": now()})
            await _save(uow, session, task, staff, TaskUpdated)
        return task_view(task, await uow.store.actions_of(staff.tenant_id, task.id, session))

    return await commit(uow, work)


async def apply_phase_change(
    uow: UnitOfWork,
    session: Session,
    task: Task,
    phase: str,
    *,
    expected: str | None,
    actor: Actor,
    cause: Envelope | None = None,
    rule_id: str | None = None,
    rule_name: str | None = None,
) -> bool:
    """Move `task` to `phase` if it is still in `expected`; stages task.phase_changed. False: nothing to do."""
    current = task.phase
    change = task.change_phase(phase, await phases_of(uow, task.tenant_id, session), expected=expected, at=now())
    if change is None:
        return False
    if not await uow.store.compare_and_set_phase(task, current, session):
        # Someone moved the task between our read and our write.
        raise PhaseMismatch(f"task {task.id} changed phase concurrently; read it again")
    envelope = cause.caused() if cause else {"tenant_id": task.tenant_id, "task_id": task.id}
    await uow.outbox.add(
        session,
        TASKS_EVENTS,
        TaskPhaseChanged(
            **envelope,
            actor=actor,
            payload=PhaseChangedPayload(
                from_phase=change.from_phase, to_phase=change.to_phase, rule_id=rule_id, rule_name=rule_name
            ),
        ),
    )
    return True


async def change_phase(uow: UnitOfWork, staff: Staff, task_id: str, phase: str, if_phase: str | None) -> dict:
    async def work(session: Session) -> dict:
        task = await uow.store.get_task(staff.tenant_id, task_id, session)
        await apply_phase_change(uow, session, task, phase, expected=if_phase, actor=staff_actor(staff))
        return task_view(task, await uow.store.actions_of(task.tenant_id, task.id, session))

    return await commit(uow, work)


async def list_phases(uow: UnitOfWork, staff: Staff) -> dict:
    return {"phases": await phases_of(uow, staff.tenant_id)}


async def set_phases(uow: UnitOfWork, staff: Staff, names: list[str]) -> dict:
    """Replace the tenant's phase list; a phase that tasks are still in cannot be removed."""
    phases = normalise_phases(names)

    async def work(session: Session) -> dict:
        removed = [p for p in await phases_of(uow, staff.tenant_id, session) if p not in phases]
        if removed and (task := await uow.store.any_task_in(staff.tenant_id, removed, session)):
            raise Conflict(f"phase {task['phase']!r} is still used by task {task['_id']}; move its tasks first")
        await uow.store.set_phases(staff.tenant_id, phases, session)
        return {"phases": phases}

    return await commit(uow, work)


async def _save(
    uow: UnitOfWork, session: Session, task: Task, staff: Staff, announce: type[TaskCreated] | type[TaskUpdated]
) -> None:
    """Store the task, and announce what it now is (task.created or task.updated) in the same transaction."""
    await uow.store.save_task(task, session)
    await uow.outbox.add(
        session,
        TASKS_EVENTS,
        announce(
            tenant_id=task.tenant_id,
            task_id=task.id,
            actor=staff_actor(staff),
            payload=TaskPayload(task=task.snapshot()),
        ),
    )
