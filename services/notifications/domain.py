"""Which mail a message causes, to whom, in which language; and when a failed delivery is tried again.

Pure: no I/O. The handlers feed it what the projections know; the delivery loop asks it about retries."""

from __future__ import annotations

import hashlib
import re
from datetime import datetime, timedelta
from typing import Literal

from pydantic import BaseModel, Field, field_validator

from contracts.models import ActionKind, Language

Kind = Literal[
    "action_requested",
    "action_reminder",
    "action_expired",
    "action_cancelled",
    "proof",
    "staff_signed",
    "staff_declined",
    "staff_expired",
]
CONTACT_KINDS: tuple[Kind, ...] = ("action_requested", "action_reminder", "action_expired", "action_cancelled", "proof")
STAFF_KINDS: tuple[Kind, ...] = ("staff_signed", "staff_declined", "staff_expired")
KINDS: tuple[Kind, ...] = CONTACT_KINDS + STAFF_KINDS
Status = Literal["pending", "sent", "failed"]
REPLACED_PREFIX = "replaced by "
DEFAULT_COLOUR = "#1f5f8b"
_COLOUR = re.compile(r"#[0-9a-fA-F]{6}")  # how tasks names a replacement in task.action_cancelled's reason


class Brand(BaseModel):
    """The tenant as its customers know it: a mail is in its name and colours."""

    name: str = "Akkoord"
    logo_url: str | None = None
    colour: str = DEFAULT_COLOUR
    # The IANA zone the mails' moments (a deadline, a signing) are written in; kept apart from the branding,
    # which changes without it (tenant.registered and tenant.time_zone_changed set it).
    time_zone: str = "Europe/Amsterdam"

    # These end up in a style attribute and an img src: anything but a plain colour or an https URL is dropped.
    @field_validator("colour", mode="before")
    @classmethod
    def _a_colour(cls, value: object) -> str:
        return value if isinstance(value, str) and _COLOUR.fullmatch(value) else DEFAULT_COLOUR

    @field_validator("logo_url", mode="before")
    @classmethod
    def _an_https_url(cls, value: object) -> str | None:
        # Plain http only on this machine (a development tasks serves the logo on loopback).
        if not isinstance(value, str) or '"' in value or " " in value:
            return None
        return value if value.startswith(("https://", "http://127.0.0.1:", "http://localhost:")) else None


class Prefs(BaseModel):
    """A tenant's mail settings, kept by staff through the API."""

    staff_address: str | None = Field(
        None,
        description="Where staff mails go when the action was not requested by a staff user with an e-mail address.",
    )
    reply_to: str | None = Field(None, description="Reply-To of every mail (the contact answers the tenant).")
    staff_language: Language = "nl"
    disabled: list[Kind] = Field([], description="Kinds of mail the tenant does not send.")

    def sends(self, kind: Kind) -> bool:
        return kind not in self.disabled


class ActionFacts(BaseModel):
    """What the projection knows of one requested action: enough to word any mail about it."""

    action_id: str
    task_id: str
    task_title: str
    kind: ActionKind
    contact_id: str
    document_id: str | None = None
    message: str | None = None
    expires_at: datetime | None = None
    notify: bool = True
    requested_by_email: str | None = None
    requested_by_name: str | None = None
    replaces: str | None = None  # the action this one replaced (an updated request)


class Recipient(BaseModel):
    email: str
    name: str = ""
    language: Language = "nl"
    contact_id: str | None = None  # set for a contact: their mail carries a magic link
    link_generation: int = 0  # the contact's, so the link survives only until staff revoke their links


class Notification(BaseModel):
    """One mail to one recipient, decided from one event; delivered (and retried) by the sender loop."""

    id: str
    tenant_id: str
    task_id: str | None
    event_id: str
    kind: Kind
    recipient: Recipient
    facts: dict[str, object] = {}
    status: Status = "pending"
    attempt_count: int = 0
    created_at: datetime
    next_attempt_at: datetime | None
    sent_at: datetime | None = None
    last_error: str | None = None


class Claim(BaseModel):
    """A notification claimed for one attempt, which is counted already. `unfinished_since`: when the previous
    attempt started, if it never recorded its outcome (the process ended during it)."""

    notification: Notification
    unfinished_since: datetime | None = None


def notification_id(kind: Kind, key: str, email: str) -> str:
    """Deterministic: the same cause and recipient always name the same record, so a redelivery finds it."""
    return f"{kind}:{key}:{hashlib.sha256(email.strip().lower().encode()).hexdigest()[:16]}"


def replaced_by(reason: str | None) -> str | None:
    if reason and reason.startswith(REPLACED_PREFIX):
        return reason.removeprefix(REPLACED_PREFIX).strip() or None
    return None


def contact_mail(kind: Kind, action: ActionFacts, contact: Recipient | None, prefs: Prefs) -> Recipient | None:
    """The contact gets this mail unless staff asked for no mails on the request or the tenant turned it off."""
    if contact is None or not contact.email or not action.notify or not prefs.sends(kind):
        return None
    return contact


def staff_mail(kind: Kind, action: ActionFacts | None, prefs: Prefs) -> Recipient | None:
    """The staff user who asked for the action, when they have an address; else the tenant's address."""
    if not prefs.sends(kind):
        return None
    if action is not None and action.requested_by_email:
        return Recipient(
            email=action.requested_by_email, name=action.requested_by_name or "", language=prefs.staff_language
        )
    if prefs.staff_address:
        return Recipient(email=prefs.staff_address, language=prefs.staff_language)
    return None


class RetryPolicy(BaseModel):
    base_seconds: float
    max_delay_seconds: float
    give_up_after_seconds: float


def next_attempt(policy: RetryPolicy, created_at: datetime, attempts: int, now: datetime) -> datetime | None:
    """Exponential backoff from the base, each wait capped; None once the next try would pass the give-up time."""
    delay = min(policy.base_seconds * 2 ** max(attempts - 1, 0), policy.max_delay_seconds)
    at = now + timedelta(seconds=delay)
    if at - created_at > timedelta(seconds=policy.give_up_after_seconds):
        return None
    return at
