"""Each message's topic and kind, said once, and what derives from that: the lookups and the parser."""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum
from typing import Annotated, Any, Union

from pydantic import Field, TypeAdapter

from contracts.envelope import Envelope
from contracts.messages.acceptance import DeclineRejected, SigningRejected, TaskActionCompleted, TaskActionDeclined
from contracts.messages.automation import TimelineNoteAdded
from contracts.messages.commands import ChangeTaskPhase, RequestTaskAction
from contracts.messages.documents import ApprovalWithdrawn, DocumentStamped, DocumentUploaded, DocumentVersionAdded
from contracts.messages.portal import ActionDeclined, DocumentSigned, TaskSigned
from contracts.messages.signing import EvidenceRecorded, SignatureSealed
from contracts.messages.tasks import (
    ActionExpired,
    ActionReminderDue,
    ContactRegistered,
    ContactUpdated,
    TaskActionCancelled,
    TaskActionRequested,
    TaskCreated,
    TaskPhaseChanged,
    TaskUpdated,
)
from contracts.messages.tenants import (
    StaffKeyIssued,
    StaffKeyRevoked,
    TenantBrandingChanged,
    TenantRegistered,
    TenantTimeZoneChanged,
)
from contracts.messages.timeline import TimelineEntryAppended
from contracts.topics import (
    ALL_TOPICS,
    AUTOMATION_EVENTS,
    DOCUMENTS_EVENTS,
    PORTAL_EVENTS,
    SIGNING_EVENTS,
    TASKS_COMMANDS,
    TASKS_EVENTS,
    TIMELINE_CHAIN,
)


class Kind(StrEnum):
    """What a message is to its readers."""

    EVENT = "event"  # a fact others may react to (timelines, rules, webhooks)
    COMMAND = "command"  # a request to one service, which may refuse it
    INTERNAL = "internal"  # a fact that stays inside Akkoord (tenants and keys, timeline's own bookkeeping)


@dataclass(frozen=True)
class Route:
    topic: str
    kind: Kind


# Each message's topic and kind, said once: consumers' tables, the webhook types, timeline's projection and
# the schemas are all derived from this.
ROUTES: dict[type[Envelope], Route] = {
    TenantRegistered: Route(TASKS_EVENTS, Kind.INTERNAL),
    TenantBrandingChanged: Route(TASKS_EVENTS, Kind.INTERNAL),
    TenantTimeZoneChanged: Route(TASKS_EVENTS, Kind.INTERNAL),
    StaffKeyIssued: Route(TASKS_EVENTS, Kind.INTERNAL),
    StaffKeyRevoked: Route(TASKS_EVENTS, Kind.INTERNAL),
    ContactRegistered: Route(TASKS_EVENTS, Kind.EVENT),
    ContactUpdated: Route(TASKS_EVENTS, Kind.EVENT),
    TaskCreated: Route(TASKS_EVENTS, Kind.EVENT),
    TaskUpdated: Route(TASKS_EVENTS, Kind.EVENT),
    TaskPhaseChanged: Route(TASKS_EVENTS, Kind.EVENT),
    TaskActionRequested: Route(TASKS_EVENTS, Kind.EVENT),
    TaskActionCancelled: Route(TASKS_EVENTS, Kind.EVENT),
    TaskActionCompleted: Route(TASKS_EVENTS, Kind.EVENT),
    ActionExpired: Route(TASKS_EVENTS, Kind.EVENT),
    ActionReminderDue: Route(TASKS_EVENTS, Kind.EVENT),
    ChangeTaskPhase: Route(TASKS_COMMANDS, Kind.COMMAND),
    TaskSigned: Route(PORTAL_EVENTS, Kind.EVENT),
    DocumentSigned: Route(PORTAL_EVENTS, Kind.EVENT),
    ActionDeclined: Route(PORTAL_EVENTS, Kind.EVENT),
    DocumentUploaded: Route(DOCUMENTS_EVENTS, Kind.EVENT),
    DocumentVersionAdded: Route(DOCUMENTS_EVENTS, Kind.EVENT),
    DocumentStamped: Route(DOCUMENTS_EVENTS, Kind.EVENT),
    ApprovalWithdrawn: Route(DOCUMENTS_EVENTS, Kind.EVENT),
    EvidenceRecorded: Route(SIGNING_EVENTS, Kind.EVENT),
    SignatureSealed: Route(SIGNING_EVENTS, Kind.EVENT),
    TimelineNoteAdded: Route(AUTOMATION_EVENTS, Kind.EVENT),
    RequestTaskAction: Route(TASKS_COMMANDS, Kind.COMMAND),
    TimelineEntryAppended: Route(TIMELINE_CHAIN, Kind.INTERNAL),
    SigningRejected: Route(TASKS_EVENTS, Kind.EVENT),
    TaskActionDeclined: Route(TASKS_EVENTS, Kind.EVENT),
    DeclineRejected: Route(TASKS_EVENTS, Kind.EVENT),
}
MESSAGE_TYPES: tuple[type[Envelope], ...] = tuple(ROUTES)


def type_name(message: type[Envelope]) -> str:
    """The `type` a message class carries on the bus (`task.signed`)."""
    name: str = message.model_fields["type"].default
    return name


def messages(*, kinds: Iterable[Kind] = tuple(Kind), topics: Iterable[str] | None = None) -> tuple[type[Envelope], ...]:
    """The message classes of these kinds (on these topics), in declaration order."""
    kinds, topics = frozenset(kinds), None if topics is None else frozenset(topics)
    return tuple(m for m, r in ROUTES.items() if r.kind in kinds and (topics is None or r.topic in topics))


# What a tenant's webhooks may subscribe to (automation accepts these, the console offers these): events only.
# Internal messages (tenants and keys, timeline's chain order) stay inside Akkoord, and commands are not facts.
WEBHOOK_MESSAGES: tuple[type[Envelope], ...] = messages(kinds=(Kind.EVENT,))


def topic_of(message: Envelope | type[Envelope]) -> str:
    return ROUTES[message if isinstance(message, type) else type(message)].topic


def topics_of(classes: Iterable[type[Envelope]]) -> tuple[str, ...]:
    """The topics these messages travel on (what a consumer of them subscribes to), in ALL_TOPICS order."""
    wanted = {ROUTES[c].topic for c in classes}
    return tuple(t for t in ALL_TOPICS if t in wanted)


Message = Annotated[Union[MESSAGE_TYPES], Field(discriminator="type")]  # type: ignore[valid-type]  # noqa: UP007 (a tuple of classes)
message_adapter: TypeAdapter[Envelope] = TypeAdapter(Message)
KNOWN_TYPES = frozenset(type_name(m) for m in MESSAGE_TYPES)
BY_TYPE: dict[str, type[Envelope]] = {type_name(m): m for m in MESSAGE_TYPES}


def parse_message(raw: bytes | str | dict[str, Any]) -> Envelope | None:
    """Parse a message; a type this code does not know yet is None (newer producers are allowed)."""
    data = raw if isinstance(raw, dict) else json.loads(raw)
    if data.get("type") not in KNOWN_TYPES:
        return None
    return message_adapter.validate_python(data)
