"""Response shapes of the staff API, for the OpenAPI document (requests live beside their routes)."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

from contracts.models import ActionKind, FieldSpec, Language
from services.tasks.domain import ActionStatus


class ContactOut(BaseModel):
    id: str
    name: str
    email: str
    company: str | None
    language: Language
    archived: bool
    link_generation: int = Field(0, description="Raised each time the contact's magic links are revoked")
    created_at: datetime
    updated_at: datetime


class ActionOut(BaseModel):
    id: str
    task_id: str
    kind: ActionKind
    status: ActionStatus
    contact_id: str
    fields: list[FieldSpec]
    document_id: str | None
    document_version_id: str | None = Field(description="The document version pinned when requested.")
    document_digest: str | None
    message: str | None
    expires_at: datetime | None
    language: Language | None = None
    remind_at: list[datetime]
    notify: bool = True
    reminders_sent: int
    created_at: datetime
    closed_at: datetime | None
    close_reason: str | None
    signed_event_id: str | None
    replaces: str | None = Field(None, description="On a replacement: the action it cancelled.")


class TaskSummary(BaseModel):
    id: str
    title: str
    description: str
    phase: str
    contact_id: str | None
    created_at: datetime
    updated_at: datetime


class TaskOut(TaskSummary):
    actions: list[ActionOut]


class PageOut(BaseModel):
    limit: int
    offset: int
    next_offset: int | None = Field(description="The offset of the next page; null on the last page.")


class ContactPage(PageOut):
    items: list[ContactOut]


class TaskPage(PageOut):
    items: list[TaskSummary]


class PhasesOut(BaseModel):
    phases: list[str] = Field(
        examples=[["New", "In progress", "Waiting for approval", "Approved", "Changes requested", "Done"]]
    )


class PortalLinkOut(BaseModel):
    link_id: str
    contact_id: str
    url: str = Field(description="Send this to the contact; it opens the portal once.")
    expires_at: datetime
