"""The JSON shapes the staff API answers with (also what an idempotent retry replays)."""

from __future__ import annotations

from services.tasks.domain import Action, Contact, Task


def contact_view(contact: Contact) -> dict:
    return contact.model_dump(exclude={"tenant_id"})


def action_view(action: Action) -> dict:
    return action.model_dump(exclude={"tenant_id"})


def task_view(task: Task, actions: list[Action] | None = None) -> dict:
    view = task.model_dump(exclude={"tenant_id"})
    if actions is not None:
        view["actions"] = [action_view(a) for a in actions]
    return view
