"""Automation rules as data, and their evaluation as a pure function.

A rule names a trigger (an event type), conditions over the facts of that event (the task's phase,
the action's kind, document, contact, a signed field's value) and actions. Evaluating a rule yields
a decision — matched or not, why, and the commands to send — and never performs I/O.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Annotated, Any, Literal, Self, assert_never

from pydantic import BaseModel, ConfigDict, Field, model_validator

from contracts import Envelope
from contracts import messages as m
from contracts.models import ActionKind, FieldSpec

Trigger = Literal[
    "task.signed", "document.signed", "action.declined", "action.expired", "approval.withdrawn", "task.phase_changed"
]
TRIGGERS: tuple[str, ...] = Trigger.__args__  # type: ignore[attr-defined]
# A rule's effects are one hop deeper than their cause; past this depth a run stops, so rules cannot loop.
MAX_CAUSATION_DEPTH = 5

FIELD_PATTERN = r"^(task\.phase|action\.kind|document_id|contact_id|fields\.[a-z][a-z0-9_]{0,63})$"
Scalar = str | bool | int | None


class Condition(BaseModel):
    model_config = ConfigDict(extra="forbid")

    field: str = Field(pattern=FIELD_PATTERN, examples=["task.phase"])
    op: Literal["eq", "ne", "in", "not_in"] = "eq"
    value: Scalar | list[Scalar]

    @model_validator(mode="after")
    def _list_for_membership(self) -> Self:
        if (self.op in ("in", "not_in")) != isinstance(self.value, list):
            raise ValueError(f"op '{self.op}' needs {'a list' if self.op in ('in', 'not_in') else 'a single'} value")
        return self

    def describe(self) -> str:
        return f"{self.field} {self.op} {self.value!r}"


class SetPhase(BaseModel):
    model_config = ConfigDict(extra="forbid")
    type: Literal["set_phase"] = "set_phase"
    phase: str = Field(min_length=1, max_length=100)


class AddNote(BaseModel):
    model_config = ConfigDict(extra="forbid")
    type: Literal["add_note"] = "add_note"
    text: str = Field(min_length=1, max_length=2000)


class CallWebhook(BaseModel):
    model_config = ConfigDict(extra="forbid")
    type: Literal["call_webhook"] = "call_webhook"
    endpoint_id: str = Field(min_length=1)


class RequestAction(BaseModel):
    """Ask a contact for another action on the task (sent to tasks as task.request_action)."""

    model_config = ConfigDict(extra="forbid")
    type: Literal["request_action"] = "request_action"
    kind: ActionKind
    fields: list[FieldSpec] = Field([], max_length=50)
    document_id: str | None = Field(None, min_length=1, description="For sign_document: the document to sign.")
    contact_id: str | None = Field(
        None, min_length=1, description="Who is asked; by default the contact of the triggering event."
    )
    message: str | None = Field(None, max_length=2000, description="Shown to the customer in the portal.")
    expires_in_hours: int | None = Field(
        None, ge=1, le=24 * 365, description="The action expires this long after tasks opens it."
    )
    remind_in_hours: list[int] = Field(
        [],
        max_length=10,
        description="Remind the customer this long after the action opens, for each value (before it expires).",
    )

    @model_validator(mode="after")
    def _reminders_before_expiry(self) -> Self:
        if any(h < 1 for h in self.remind_in_hours):
            raise ValueError("remind_in_hours are whole hours from 1 up")
        if self.expires_in_hours is not None and any(h >= self.expires_in_hours for h in self.remind_in_hours):
            raise ValueError("every reminder comes before the action expires (remind_in_hours < expires_in_hours)")
        return self

    @model_validator(mode="after")
    def _document_for_sign_document_only(self) -> Self:
        if self.kind == "sign_document" and self.document_id is None:
            raise ValueError("a sign_document request needs a document_id")
        if self.kind == "sign_task" and self.document_id is not None:
            raise ValueError("a sign_task request has no document_id; use kind sign_document")
        names = [f.name for f in self.fields]
        if duplicates := sorted({n for n in names if names.count(n) > 1}):
            raise ValueError(f"field names must be unique: {', '.join(duplicates)}")
        return self


RuleAction = Annotated[SetPhase | AddNote | CallWebhook | RequestAction, Field(discriminator="type")]
# Triggers whose event names no contact: a request_action on them must name its contact itself.
CONTACTLESS_TRIGGERS = frozenset({"task.phase_changed"})


class RuleSpec(BaseModel):
    """What staff write: the rule without its identity."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=200)
    trigger: Trigger
    conditions: list[Condition] = []
    actions: list[RuleAction] = Field(min_length=1)
    enabled: bool = True

    @model_validator(mode="after")
    def _someone_to_ask(self) -> Self:
        if self.trigger in CONTACTLESS_TRIGGERS and any(
            isinstance(a, RequestAction) and a.contact_id is None for a in self.actions
        ):
            raise ValueError(f"a request_action on {self.trigger} needs a contact_id: that event names no contact")
        return self


class Rule(RuleSpec):
    model_config = ConfigDict(extra="ignore")

    id: str
    tenant_id: str
    created_at: datetime
    updated_at: datetime


class Facts(BaseModel):
    """What a rule can test about a trigger event."""

    task_id: str
    phase: str | None = None
    action_kind: str | None = None
    action_id: str | None = None
    document_id: str | None = None
    contact_id: str | None = None
    fields: dict[str, Any] = {}

    def value_of(self, name: str) -> tuple[bool, Any]:
        """(known, value) of a condition field."""
        if name.startswith("fields."):
            key = name.removeprefix("fields.")
            return key in self.fields, self.fields.get(key)
        value = {
            "task.phase": self.phase,
            "action.kind": self.action_kind,
            "document_id": self.document_id,
            "contact_id": self.contact_id,
        }[name]
        return value is not None, value


def holds(condition: Condition, facts: Facts) -> tuple[bool, str]:
    known, actual = facts.value_of(condition.field)
    if not known:
        return False, f"{condition.field} is unknown for this event (wanted {condition.op} {condition.value!r})"
    wanted = condition.value if isinstance(condition.value, list) else [condition.value]
    match condition.op:
        case "eq":
            ok = actual == condition.value
        case "ne":
            ok = actual != condition.value
        case "in":
            ok = actual in wanted
        case "not_in":
            ok = actual not in wanted
        case _:
            assert_never(condition.op)
    verdict = "holds" if ok else "does not hold"
    return ok, f"{condition.field} is {actual!r}: {condition.op} {condition.value!r} {verdict}"


@dataclass(frozen=True)
class PhaseChange:
    expected_phase: str
    phase: str


@dataclass(frozen=True)
class Note:
    text: str


@dataclass(frozen=True)
class WebhookCall:
    endpoint_id: str


@dataclass(frozen=True)
class ActionRequest:
    kind: str
    contact_id: str
    fields: tuple[FieldSpec, ...] = ()
    document_id: str | None = None
    message: str | None = None
    expires_in_hours: int | None = None
    remind_in_hours: tuple[int, ...] = ()


Effect = PhaseChange | Note | WebhookCall | ActionRequest


@dataclass
class Decision:
    status: Literal["matched", "not_matched", "stopped"]
    reasons: list[str] = field(default_factory=list)
    effects: list[Effect] = field(default_factory=list)

    @property
    def matched(self) -> bool:
        return self.status == "matched"


def evaluate(rule: RuleSpec, event_type: str, facts: Facts, causation_depth: int) -> Decision:
    """Decide what `rule` does about an event of `event_type` with `facts`, `causation_depth` hops deep."""
    if event_type != rule.trigger:
        return Decision("not_matched", [f"trigger is {rule.trigger}, the event is {event_type}"])
    if causation_depth + 1 > MAX_CAUSATION_DEPTH:
        return Decision(
            "stopped",
            [
                f"causation depth {causation_depth} reached the limit of "
                f"{MAX_CAUSATION_DEPTH}: stopped to prevent a loop"
            ],
        )
    reasons, matched = [], True
    for condition in rule.conditions:
        ok, why = holds(condition, facts)
        reasons.append(why)
        matched = matched and ok
    if not matched:
        return Decision("not_matched", reasons)
    if not rule.conditions:
        reasons.append("no conditions: every such event matches")
    return Decision("matched", reasons, plan_effects(rule, facts, reasons))


def plan_effects(rule: RuleSpec, facts: Facts, reasons: list[str]) -> list[Effect]:
    effects: list[Effect] = []
    phase = facts.phase
    for action in rule.actions:
        match action:
            case SetPhase():
                if phase is None:
                    reasons.append(f"set_phase {action.phase!r} skipped: the task's phase is unknown")
                elif phase == action.phase:
                    reasons.append(f"set_phase skipped: the phase is already {phase!r}")
                else:
                    effects.append(PhaseChange(expected_phase=phase, phase=action.phase))
                    phase = action.phase  # a later set_phase in the same rule follows this one
            case AddNote():
                effects.append(Note(action.text))
            case CallWebhook():
                effects.append(WebhookCall(action.endpoint_id))
            case RequestAction():
                contact = action.contact_id or facts.contact_id
                if contact is None:
                    reasons.append(f"request_action {action.kind} skipped: the event names no contact to ask")
                else:
                    effects.append(
                        ActionRequest(
                            kind=action.kind,
                            contact_id=contact,
                            fields=tuple(action.fields),
                            document_id=action.document_id,
                            message=action.message,
                            expires_in_hours=action.expires_in_hours,
                            remind_in_hours=tuple(sorted(set(action.remind_in_hours))),
                        )
                    )
            case _:
                assert_never(action)
    return effects


def facts_for(event: Envelope, known_phase: str | None, known_action: dict[str, Any] | None) -> Facts:
    """The facts of a trigger event. The phase automation projected from tasks.events wins over the
    snapshot inside the event, which may be older; the action's request fills what the event lacks."""
    action = known_action or {}
    p = getattr(event, "payload", None)
    facts: dict[str, Any] = {
        "task_id": event.task_id or "",
        "phase": known_phase,
        "action_id": getattr(p, "action_id", None),
        "action_kind": action.get("kind"),
        "document_id": action.get("document_id"),
        "contact_id": action.get("contact_id"),
    }
    match event:
        case m.TaskSigned() | m.DocumentSigned():
            signed = event.payload
            facts.update(
                phase=known_phase or signed.task.phase,
                contact_id=signed.signer.contact_id,
                fields=signed.fields,
                action_kind="sign_document" if isinstance(event, m.DocumentSigned) else "sign_task",
            )
            if isinstance(event, m.DocumentSigned):
                facts["document_id"] = event.payload.document_id
        case m.ActionDeclined():
            facts.update(action_kind=event.payload.kind, contact_id=event.payload.contact_id)
        case m.ActionExpired():
            facts.update(contact_id=event.payload.contact_id)
        case m.ApprovalWithdrawn():
            facts.update(document_id=event.payload.document_id)
        case m.TaskPhaseChanged():
            facts.update(phase=event.payload.to_phase)
    return Facts(**facts)
