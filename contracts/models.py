"""Value objects shared by several messages."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field

Language = Literal["nl", "en"]
ActionKind = Literal["sign_task", "sign_document"]
FieldType = Literal["text", "date", "checkbox"]
FieldValue = str | bool | None


class FieldSpec(BaseModel):
    """A field the signer must fill in."""

    name: str = Field(pattern=r"^[a-z][a-z0-9_]{0,63}$")
    label: str = Field(min_length=1, max_length=200)
    type: FieldType = "text"
    required: bool = True


class TaskSnapshot(BaseModel):
    task_id: str
    title: str
    description: str = ""
    phase: str
    contact_id: str | None = None


class ContactRef(BaseModel):
    contact_id: str
    name: str
    email: str
    company: str | None = None
    language: Language = "nl"


class ActionSnapshot(BaseModel):
    """What the portal must show for a requested action, frozen at request time."""

    action_id: str
    kind: ActionKind
    contact_id: str
    fields: list[FieldSpec] = []
    document_id: str | None = None
    document_version_id: str | None = None
    document_digest: str | None = None
    message: str | None = None
    expires_at: datetime | None = None
    # False when staff send the customer their link their own way: no mails to the contact for this action.
    notify: bool = True
    # The language staff wrote the task's title, the message and the field labels in, when they said: the
    # portal marks those texts with it where the page is in another language.
    language: Language | None = None


class Signer(BaseModel):
    contact_id: str
    name: str
    email: str


class SignatureRef(BaseModel):
    """A stored signature, by reference: the image never rides on the bus."""

    signature_id: str
    kind: Literal["drawn", "typed", "uploaded"]
    image_digest: str
    image_url: str
    media_type: str = "image/png"


class Evidence(BaseModel):
    signed_at: datetime
    ip: str
    user_agent: str
    session_id: str
    auth_method: Literal["magic_link", "magic_link+otp"]
    consent_text: str
    consent_version: str
    # sign_task: SHA-256 of the task content the signer was shown (title, description, fields, message)
    task_digest: str | None = None
