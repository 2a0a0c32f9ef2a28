"""Time-driven changes to open actions: expiry and reminders, run by a background job in every replica.

Each change is a write conditional on the action's current state, so with several replicas exactly
one of them makes it and emits its event; the others find nothing to do.
"""

from __future__ import annotations

import logging
from datetime import datetime

from contracts.errors import Conflict
from contracts.messages import ActionExpired, ActionRefPayload, ActionReminderDue, ReminderDuePayload
from contracts.topics import TASKS_EVENTS
from services.runtime.mongo import Session
from services.tasks.domain import Action
from services.tasks.handlers.actions import close
from services.tasks.unit_of_work import UnitOfWork, commit, now

log = logging.getLogger(__name__)


async def expire_overdue(uow: UnitOfWork, at: datetime | None = None) -> int:
    """Expire every open action past its expires_at, emitting action.expired."""
    at = at or now()
    expired = 0
    for action in await uow.store.overdue_actions(at):

        async def work(session: Session, action: Action = action) -> None:
            action.expire(at)
            await close(uow, session, action)
            await uow.outbox.add(
                session,
                TASKS_EVENTS,
                ActionExpired(
                    tenant_id=action.tenant_id,
                    task_id=action.task_id,
                    payload=ActionRefPayload(action_id=action.id, contact_id=action.contact_id, reason="expired"),
                ),
            )

        try:
            await commit(uow, work)
            expired += 1
        except Conflict:
            continue  # another replica, a signature or a cancellation got there first
    return expired


async def send_due_reminders(uow: UnitOfWork, at: datetime | None = None) -> int:
    """Emit action.reminder_due for each open action whose next reminder time has come."""
    at = at or now()
    sent = 0
    for action in await uow.store.due_reminders(at):

        async def work(session: Session, action: Action = action) -> None:
            number = action.remind(at)
            if not await uow.store.count_reminder(action, session):
                raise Conflict(f"reminder {number} of action {action.id} was already sent")
            await uow.outbox.add(
                session,
                TASKS_EVENTS,
                ActionReminderDue(
                    tenant_id=action.tenant_id,
                    task_id=action.task_id,
                    payload=ReminderDuePayload(
                        action_id=action.id, contact_id=action.contact_id, reminder_number=number
                    ),
                ),
            )

        try:
            await commit(uow, work)
            sent += 1
        except Conflict:
            continue
    return sent


async def action_schedule_pass(uow: UnitOfWork) -> None:
    """One pass of the background job: expire overdue actions and send due reminders."""
    if expired := await expire_overdue(uow):
        log.info("expired %d overdue action(s)", expired)
    if reminded := await send_due_reminders(uow):
        log.info("sent %d reminder(s)", reminded)
