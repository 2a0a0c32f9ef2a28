"""Documents and their versions, and how a placeholder tag in a template is read. Pure."""

from __future__ import annotations

import hashlib
import re
from datetime import datetime
from typing import Literal

from pydantic import BaseModel

from contracts.messages import Placeholder

VersionSource = Literal["upload", "stamped"]

# {{signature}}, {{signer_name}}, {{signed_at}}, {{field:<name>}}, and DocuSeal's
# {{Name;type=signature;role=Customer}} (type: signature, initials, date, text ...).
TAG = re.compile(r"\{\{\s*([^{}]{1,200}?)\s*\}\}")
_SHORT = {
    "signature": "signature",
    "signer_name": "signer_name",
    "signed_at": "signed_at",
    "name": "signer_name",
    "date": "signed_at",
}
_DOCUSEAL_TYPES = {
    "signature": "signature",
    "initials": "signature",
    "date": "signed_at",
    "datenow": "signed_at",
    "name": "signer_name",
}


class Version(BaseModel):
    version_id: str
    document_id: str
    tenant_id: str
    version: int
    digest: str
    size: int
    pages: int
    placeholders: list[Placeholder] = []
    source: VersionSource = "upload"
    # For a stamped version: what it was stamped from, and for which signing.
    stamped_from: str | None = None
    action_id: str | None = None
    task_id: str | None = None
    signed_event_id: str | None = None
    # When a newer upload replaced the signed content, the approval it carried no longer holds.
    withdrawn_at: datetime | None = None
    created_at: datetime


class Document(BaseModel):
    document_id: str
    tenant_id: str
    title: str
    latest_version_id: str
    version_count: int
    created_at: datetime
    updated_at: datetime


class PdfFacts(BaseModel):
    """What inspecting an uploaded PDF found out."""

    pages: int
    placeholders: list[Placeholder] = []


def classify_tag(inner: str) -> tuple[str, str | None] | None:
    """The placeholder kind (and field name) a tag's inner text asks for, or None if it is not ours."""
    text = inner.strip()
    lowered = text.lower()
    if lowered in _SHORT:
        return _SHORT[lowered], None
    if lowered.startswith("field:"):
        name = text.split(":", 1)[1].strip()
        return ("field", name) if name else None
    if ";" in text:
        name, *options = [part.strip() for part in text.split(";")]
        attrs = {k.strip().lower(): v.strip() for k, _, v in (o.partition("=") for o in options)}
        kind = attrs.get("type", "text").lower()
        if kind in _DOCUSEAL_TYPES:
            return _DOCUSEAL_TYPES[kind], None
        return "field", _field_name(name)
    return None


def _field_name(label: str) -> str:
    return re.sub(r"[^a-z0-9_]+", "_", label.strip().lower()).strip("_") or "field"


def stamped_version_id(tenant_id: str, action_id: str) -> str:
    """Deterministic, so a retried or redelivered signing stores its stamped PDF under one id."""
    return hashlib.sha256(f"stamped:{tenant_id}:{action_id}".encode()).hexdigest()[:32]


def format_field_value(value: str | bool | None, language: str) -> str:
    if isinstance(value, bool):
        return {("nl", True): "ja", ("nl", False): "nee"}.get((language, value), "yes" if value else "no")
    return "" if value is None else str(value)


def digest_matches(expected: str, actual_hex: str) -> bool:
    """Digests may be spelled bare or as "sha256:<hex>"."""
    return expected.lower().removeprefix("sha256:") == actual_hex.lower()


def withdrawal_reason(new_version: int) -> str:
    return f"Version {new_version} of the document was uploaded after it was signed."
