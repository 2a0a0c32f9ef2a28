"""tasks.events: contacts, tasks and the actions staff or rules ask of contacts."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel

from contracts.envelope import Envelope
from contracts.messages.refs import ContactAction
from contracts.models import ActionSnapshot, ContactRef, TaskSnapshot


class ContactPayload(BaseModel):
    contact: ContactRef
    archived: bool = False
    # Raised when staff revoke the contact's magic links: older links and the sessions they opened end.
    link_generation: int = 0


class ContactRegistered(Envelope):
    type: Literal["contact.registered"] = "contact.registered"
    payload: ContactPayload


class ContactUpdated(Envelope):
    type: Literal["contact.updated"] = "contact.updated"
    payload: ContactPayload


class TaskPayload(BaseModel):
    task: TaskSnapshot


class TaskCreated(Envelope):
    type: Literal["task.created"] = "task.created"
    payload: TaskPayload


class TaskUpdated(Envelope):
    type: Literal["task.updated"] = "task.updated"
    payload: TaskPayload


class PhaseChangedPayload(BaseModel):
    from_phase: str
    to_phase: str
    rule_id: str | None = None
    rule_name: str | None = None


class TaskPhaseChanged(Envelope):
    type: Literal["task.phase_changed"] = "task.phase_changed"
    payload: PhaseChangedPayload


class ActionRequestedPayload(BaseModel):
    action: ActionSnapshot
    task: TaskSnapshot
    contact: ContactRef
    # Set when an automation rule asked for the action (task.request_action), so timelines can name it.
    rule_id: str | None = None
    rule_name: str | None = None


class TaskActionRequested(Envelope):
    type: Literal["task.action_requested"] = "task.action_requested"
    payload: ActionRequestedPayload


class ActionRefPayload(ContactAction):
    reason: str | None = None


class TaskActionCancelled(Envelope):
    type: Literal["task.action_cancelled"] = "task.action_cancelled"
    payload: ActionRefPayload


class ActionExpired(Envelope):
    type: Literal["action.expired"] = "action.expired"
    payload: ActionRefPayload


class ReminderDuePayload(ContactAction):
    reminder_number: int


class ActionReminderDue(Envelope):
    type: Literal["action.reminder_due"] = "action.reminder_due"
    payload: ReminderDuePayload
