"""Response shapes of the automation API (for the OpenAPI document)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel

from services.automation.domain import Rule


class RuleList(BaseModel):
    rules: list[Rule]


class RuleRun(BaseModel):
    id: str
    rule_id: str
    rule_name: str
    task_id: str
    event_id: str
    event_type: str
    causation_depth: int
    at: datetime
    status: Literal["matched", "not_matched", "stopped"]
    matched: bool
    reasons: list[str]
    facts: dict[str, Any]
    sent: list[dict[str, Any]]
    # command event id -> the task.phase_changed / task.action_requested that applied it
    applied: dict[str, str] = {}


class RuleRuns(BaseModel):
    runs: list[RuleRun]


class EndpointOut(BaseModel):
    id: str
    url: str
    event_types: list[str]
    description: str
    enabled: bool
    created_at: datetime


class RegisteredEndpoint(EndpointOut):
    secret: str  # the signing secret, shown only in the answer to the registration


class EndpointList(BaseModel):
    endpoints: list[EndpointOut]


class Attempt(BaseModel):
    at: datetime
    status_code: int | None = None
    error: str | None = None


class Delivery(BaseModel):
    id: str
    endpoint_id: str
    event_id: str
    event_type: str
    rule_id: str | None = None
    status: Literal["pending", "delivered", "failed"]
    attempt_count: int
    attempts: list[Attempt]
    created_at: datetime
    next_attempt_at: datetime | None = None
    finished_at: datetime | None = None


class Deliveries(BaseModel):
    deliveries: list[Delivery]
