from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field


def new_id() -> str:
    return uuid.uuid4().hex


def utcnow() -> datetime:
    return datetime.now(UTC)


class Actor(BaseModel):
    """Who caused a message: a staff key, a staff user signed in to the console, a portal contact, a rule,
    or the system itself."""

    kind: Literal["staff", "staff_user", "contact", "rule", "system"]
    id: str
    name: str | None = None
    # A staff user's address, so that what follows from their request (a signature, a refusal) reaches them;
    # left out of the message when there is none, so other actors serialize as before.
    email: str | None = Field(default=None, exclude_if=lambda value: value is None)


SYSTEM = Actor(kind="system", id="akkoord")


class Envelope(BaseModel):
    """Fields every message carries. Subclasses pin `type` and type the `payload`."""

    model_config = ConfigDict(frozen=True)

    event_id: str = Field(default_factory=new_id)
    type: str
    schema_version: int = 1
    occurred_at: datetime = Field(default_factory=utcnow)
    tenant_id: str
    # The Kafka key: one task's messages stay in order. Tenant-level messages use the tenant id.
    task_id: str | None = None
    correlation_id: str = Field(default_factory=new_id)
    causation_id: str | None = None
    # How many rule-driven hops led here; automation stops past a bound so rules cannot loop.
    causation_depth: int = 0
    actor: Actor = SYSTEM

    @property
    def key(self) -> str:
        return self.task_id or self.tenant_id

    def caused(self) -> dict[str, Any]:
        """Envelope fields for a message caused by this one (same conversation, one hop deeper)."""
        return {
            "tenant_id": self.tenant_id,
            "task_id": self.task_id,
            "correlation_id": self.correlation_id,
            "causation_id": self.event_id,
            "causation_depth": self.causation_depth,
        }
