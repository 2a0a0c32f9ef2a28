"""The rules of tasks, contacts, phases and signature requests. Pure: no I/O, only contracts and pydantic."""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import datetime
from functools import cache
from typing import Literal
from zoneinfo import available_timezones

from pydantic import BaseModel

from contracts.errors import Conflict, Forbidden, Invalid
from contracts.models import ActionKind, ActionSnapshot, ContactRef, FieldSpec, Language, TaskSnapshot

DEFAULT_PHASES = ("New", "In progress", "Waiting for approval", "Approved", "Changes requested", "Done")
MAX_PHASES = 50
MAX_REMINDERS = 10
PLANS_WITH_SIGNING = frozenset({"premium"})
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
ActionStatus = Literal["open", "completed", "declined", "cancelled", "expired"]


# --- tenants and phases ---

# The regions of the IANA database whose zones a tenant picks from (its legacy aliases — US/Eastern, CET — and
# the machine's own `localtime` are left out of the list; an alias still works through the API).
TIME_ZONE_REGIONS = (
    "Africa",
    "America",
    "Antarctica",
    "Arctic",
    "Asia",
    "Atlantic",
    "Australia",
    "Europe",
    "Indian",
    "Pacific",
)


@cache
def _known_zones() -> frozenset[str]:
    return frozenset(available_timezones()) - {"localtime", "Factory"}


def is_time_zone(name: str) -> bool:
    return name in _known_zones()


def require_time_zone(name: str) -> str:
    """An IANA time zone (Europe/Amsterdam); anything else is refused, naming what was given."""
    name = name.strip()
    if not is_time_zone(name):
        raise Invalid(
            f"'{name[:64]}' is not an IANA time zone such as Europe/Amsterdam",
            errors=[{"field": "time_zone", "message": "not an IANA time zone"}],
        )
    return name


@cache
def time_zone_choices() -> tuple[str, ...]:
    """The zones a form offers: UTC and each region's, sorted."""
    return ("UTC", *sorted(z for z in _known_zones() if z.split("/")[0] in TIME_ZONE_REGIONS))


def normalise_phases(names: list[str]) -> list[str]:
    """A tenant's phase list: trimmed, non-empty, no duplicates (ignoring case), in the given order."""
    phases = [name.strip() for name in names]
    if not phases:
        raise Invalid("a tenant needs at least one phase", errors=[{"field": "phases", "message": "empty"}])
    if len(phases) > MAX_PHASES:
        raise Invalid(f"at most {MAX_PHASES} phases")
    seen: set[str] = set()
    for name in phases:
        if not name or len(name) > 60:
            raise Invalid(
                f"phase names are 1 to 60 characters: {name!r}",
                errors=[{"field": "phases", "message": "bad phase name"}],
            )
        if name.casefold() in seen:
            raise Invalid(f"phase {name!r} is listed twice", errors=[{"field": "phases", "message": "duplicate"}])
        seen.add(name.casefold())
    return phases


def require_phase(phases: list[str], phase: str) -> None:
    if phase not in phases:
        raise Invalid(
            f"phase {phase!r} is not one of this tenant's phases: {', '.join(phases)}",
            errors=[{"field": "phase", "message": "unknown phase"}],
        )


def require_signing(plan: str) -> None:
    """Signature requests are a premium (beta) feature."""
    if plan not in PLANS_WITH_SIGNING:
        raise Forbidden(
            f"signature requests are a premium feature (beta); this tenant's plan is {plan!r}. "
            "Upgrade to premium to request signatures."
        )


# --- contacts ---


class Contact(BaseModel):
    id: str
    tenant_id: str
    name: str
    email: str
    company: str | None = None
    language: Language = "nl"
    archived: bool = False
    link_generation: int = 0  # raised by revoking the contact's magic links
    created_at: datetime
    updated_at: datetime

    def ref(self) -> ContactRef:
        return ContactRef(
            contact_id=self.id, name=self.name, email=self.email, company=self.company, language=self.language
        )

    def require_active(self) -> None:
        if self.archived:
            raise Conflict(f"contact {self.id} is archived")


def require_email(email: str) -> str:
    email = email.strip()
    if not EMAIL.match(email):
        raise Invalid(f"{email!r} is not an email address", errors=[{"field": "email", "message": "not an email"}])
    return email


# --- tasks ---


class PhaseMismatch(Conflict):
    """Compare-and-set refused: the task is no longer in the phase the caller expected."""


class PhaseChange(BaseModel):
    from_phase: str
    to_phase: str


class Task(BaseModel):
    id: str
    tenant_id: str
    title: str
    description: str = ""
    phase: str
    contact_id: str | None = None
    created_at: datetime
    updated_at: datetime

    def snapshot(self) -> TaskSnapshot:
        return TaskSnapshot(
            task_id=self.id,
            title=self.title,
            description=self.description,
            phase=self.phase,
            contact_id=self.contact_id,
        )

    def change_phase(self, to: str, phases: list[str], *, expected: str | None, at: datetime) -> PhaseChange | None:
        """Move to `to` if the task is still in `expected` (when given); None when it is already there."""
        require_phase(phases, to)
        if expected is not None and expected != self.phase:
            raise PhaseMismatch(
                f"task {self.id} is in phase {self.phase!r}, not {expected!r}", current_phase=self.phase
            )
        if to == self.phase:
            return None
        change = PhaseChange(from_phase=self.phase, to_phase=to)
        self.phase, self.updated_at = to, at
        return change


# --- actions: open -> completed | declined | cancelled | expired, each terminal ---


class ActionNotOpen(Conflict):
    pass


class Action(BaseModel):
    id: str
    tenant_id: str
    task_id: str
    kind: ActionKind
    contact_id: str
    fields: list[FieldSpec] = []
    document_id: str | None = None
    document_version_id: str | None = None
    document_digest: str | None = None
    message: str | None = None
    expires_at: datetime | None = None
    language: Language | None = None
    remind_at: list[datetime] = []
    notify: bool = True
    reminders_sent: int = 0
    status: ActionStatus = "open"
    created_at: datetime
    closed_at: datetime | None = None
    close_reason: str | None = None
    signed_event_id: str | None = None
    declined_event_id: str | None = None

    def snapshot(self) -> ActionSnapshot:
        return ActionSnapshot(
            action_id=self.id,
            kind=self.kind,
            contact_id=self.contact_id,
            fields=self.fields,
            document_id=self.document_id,
            document_version_id=self.document_version_id,
            document_digest=self.document_digest,
            message=self.message,
            expires_at=self.expires_at,
            notify=self.notify,
            language=self.language,
        )

    def is_overdue(self, now: datetime) -> bool:
        return self.status == "open" and self.expires_at is not None and self.expires_at <= now

    @property
    def next_reminder_at(self) -> datetime | None:
        if self.status != "open" or self.reminders_sent >= len(self.remind_at):
            return None
        return self.remind_at[self.reminders_sent]

    def remind(self, at: datetime) -> int:
        """Count the reminder that is due; returns its number (1 for the first)."""
        if self.status != "open":
            raise ActionNotOpen(f"action {self.id} is {self.status}, not open", action_status=self.status)
        due = self.next_reminder_at
        if due is None or due > at:
            raise Conflict(f"no reminder is due for action {self.id}")
        self.reminders_sent += 1
        return self.reminders_sent

    def complete(self, signed_event_id: str, at: datetime) -> None:
        self._close("completed", at)
        self.signed_event_id = signed_event_id

    def decline(self, reason: str, at: datetime, declined_event_id: str | None = None) -> None:
        self._close("declined", at, reason)
        self.declined_event_id = declined_event_id

    def cancel(self, reason: str | None, at: datetime) -> None:
        self._close("cancelled", at, reason)

    def expire(self, at: datetime) -> None:
        self._close("expired", at)

    def _close(self, status: ActionStatus, at: datetime, reason: str | None = None) -> None:
        if self.status != "open":
            raise ActionNotOpen(f"action {self.id} is {self.status}, not open", action_status=self.status)
        self.status, self.closed_at, self.close_reason = status, at, reason


class DocumentVersion(BaseModel):
    """What tasks knows of a staff document (projected from documents' events), to pin a version."""

    document_id: str
    tenant_id: str
    version_id: str
    version: int = 1
    digest: str
    title: str = ""


def request_action(
    *,
    action_id: str,
    task: Task,
    contact: Contact,
    kind: ActionKind,
    fields: list[FieldSpec],
    document: DocumentVersion | None,
    message: str | None,
    expires_at: datetime | None,
    plan: str,
    now: datetime,
    remind_at: Sequence[datetime] = (),
    notify: bool = True,
    language: Language | None = None,
) -> Action:
    """A new open signature request for `contact` on `task`."""
    require_signing(plan)
    contact.require_active()
    names = [f.name for f in fields]
    if duplicates := sorted({n for n in names if names.count(n) > 1}):
        raise Invalid(
            f"field names must be unique: {', '.join(duplicates)}",
            errors=[{"field": "fields", "message": "duplicate name"}],
        )
    if kind == "sign_document" and document is None:
        raise Invalid(
            "a sign_document action needs a document_id",
            errors=[{"field": "document_id", "message": "required for sign_document"}],
        )
    if kind == "sign_task" and document is not None:
        raise Invalid(
            "a sign_task action has no document; use kind sign_document",
            errors=[{"field": "document_id", "message": "only for sign_document"}],
        )
    if expires_at is not None:
        if expires_at.tzinfo is None:
            raise Invalid("expires_at needs a time zone", errors=[{"field": "expires_at", "message": "no tz"}])
        if expires_at <= now:
            raise Invalid("expires_at must be in the future", errors=[{"field": "expires_at", "message": "past"}])
    remind_at = sorted(remind_at)
    if len(remind_at) > MAX_REMINDERS:
        raise Invalid(f"at most {MAX_REMINDERS} reminders", errors=[{"field": "remind_at", "message": "too many"}])
    for when in remind_at:
        if when.tzinfo is None or when <= now or (expires_at is not None and when >= expires_at):
            raise Invalid(
                "reminders are future moments with a time zone, before expires_at",
                errors=[{"field": "remind_at", "message": f"bad reminder time {when.isoformat()}"}],
            )
    return Action(
        id=action_id,
        tenant_id=task.tenant_id,
        task_id=task.id,
        kind=kind,
        contact_id=contact.id,
        fields=fields,
        document_id=document.document_id if document else None,
        document_version_id=document.version_id if document else None,
        document_digest=document.digest if document else None,
        message=message,
        expires_at=expires_at,
        remind_at=remind_at,
        notify=notify,
        created_at=now,
        language=language,
    )
