"""tasks.commands: what automation rules ask of tasks (which may refuse)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel

from contracts.envelope import Envelope
from contracts.models import ActionKind, FieldSpec


class ChangePhasePayload(BaseModel):
    expected_phase: str
    phase: str
    rule_id: str | None = None
    rule_name: str | None = None


class ChangeTaskPhase(Envelope):
    type: Literal["task.change_phase"] = "task.change_phase"
    payload: ChangePhasePayload


class RequestActionPayload(BaseModel):
    """What a rule asks for: the same request staff make with POST /v1/tasks/{id}/actions."""

    contact_id: str
    kind: ActionKind
    fields: list[FieldSpec] = []
    document_id: str | None = None
    message: str | None = None
    # Relative to when tasks opens the action (a rule states durations, not moments).
    expires_in_hours: int | None = None
    remind_in_hours: list[int] = []
    rule_id: str | None = None
    rule_name: str | None = None


class RequestTaskAction(Envelope):
    type: Literal["task.request_action"] = "task.request_action"
    payload: RequestActionPayload
