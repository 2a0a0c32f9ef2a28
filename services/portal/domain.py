"""The portal's rules: who may act on an action, what a complete submission is, what a signature image is."""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import re
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

from contracts.errors import Conflict, Forbidden, Invalid, NotFound
from contracts.models import FieldSpec, FieldValue, Language

CONSENT_VERSION = "2026-11-v1"
CONSENT_TEXT: dict[Language, str] = {
    "en": "I have reviewed this and I approve it. I agree that my electronic signature, together with the "
    "time, my IP address and my browser, is recorded as proof of this approval.",
    "nl": "Ik heb dit bekeken en ik keur het goed. Ik ga ermee akkoord dat mijn elektronische handtekening, "
    "samen met het tijdstip, mijn IP-adres en mijn browser, wordt vastgelegd als bewijs van deze "
    "goedkeuring.",
}

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
JPEG_MAGIC = b"\xff\xd8\xff"
MAX_FIELD_LENGTH = 2000
MAX_REASON_LENGTH = 2000


COLOUR = re.compile(r"#[0-9a-f]{6}")


@dataclass(frozen=True)
class Brand:
    """How the tenant looks to its contacts: name, header colour (white text on it keeps 4.5:1, checked by tasks)
    and a logo at a public URL of tasks, which the page's Content-Security-Policy allows by its origin only."""

    name: str
    colour: str | None = None
    logo_url: str | None = None

    @classmethod
    def of(cls, doc: dict[str, Any] | None) -> Brand | None:
        if not doc or not doc.get("name"):
            return None
        colour = (doc.get("colour") or "").lower()
        url = doc.get("logo_url") or ""
        return cls(
            name=doc["name"],
            colour=colour if COLOUR.fullmatch(colour) else None,
            logo_url=url if _origin(url) else None,
        )

    @property
    def logo_origin(self) -> str | None:
        return _origin(self.logo_url) if self.logo_url else None

    @property
    def style(self) -> str:
        """The header bar's colour, as the one inline style the page's CSP allows by its hash."""
        if not self.colour:
            return ""
        return (
            f".bar.branded {{ background: {self.colour}; color: #fff; border-bottom-color: {self.colour}; }}"
            " .bar.branded a, .bar.branded .brand, .bar.branded button.link, .bar.branded label { color: #fff; }"
            " .bar.branded :focus-visible { outline-color: #fff; }"
        )


def _origin(url: str) -> str | None:
    """scheme://host[:port] of an http(s) URL, or None: only a plain origin may enter the CSP header."""
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises on a malformed port
    except ValueError:
        return None
    if parts.scheme not in ("http", "https") or not re.fullmatch(r"[A-Za-z0-9.-]+(:[0-9]{1,5})?", parts.netloc):
        return None
    return f"{parts.scheme}://{parts.netloc}"


@dataclass(frozen=True)
class SessionContext:
    """Who is acting in the portal: one contact of one tenant, through one session."""

    session_id: str
    tenant_id: str
    contact_id: str
    csrf_token: str
    language: Language
    auth_method: str = "magic_link"
    brand: Brand | None = None  # the tenant's, when tasks announced one
    time_zone: str | None = None  # the tenant's IANA zone for the times its pages show, when tasks announced it


OTP_DIGITS = 6


def new_otp_code() -> str:
    return f"{secrets.randbelow(10**OTP_DIGITS):0{OTP_DIGITS}d}"


def otp_hash(session_id: str, code: str) -> str:
    # Bound to the session: a code mailed for one session is worthless in another.
    return hashlib.sha256(f"{session_id}:{code}".encode()).hexdigest()


def check_otp(pending: dict[str, Any] | None, session_id: str, code: str, now: datetime) -> None:
    """`pending` is the stored {hash, expires_at}; raises Invalid with a reason the form can show."""

    def refuse(reason: str, message: str) -> Invalid:
        return Invalid(message, code=reason, errors=[{"field": "code", "message": message}])

    if not pending:
        raise refuse("otp_not_sent", "Ask for a code first.")
    expires_at = pending["expires_at"]
    if expires_at.tzinfo is None:
        expires_at = expires_at.replace(tzinfo=UTC)
    if expires_at <= now:
        raise refuse("otp_expired", "This code has expired. Ask for a new one.")
    if not hmac.compare_digest(pending["hash"], otp_hash(session_id, "".join(code.split()))):
        raise refuse("otp_wrong", "This code is not right.")


def ensure_second_factor(required: bool, ctx: SessionContext) -> None:
    if required and ctx.auth_method != "magic_link+otp":
        raise Forbidden("Enter the code we e-mail you before signing.", code="otp_required")


def mask_email(email: str) -> str:
    name, _, domain_part = email.partition("@")
    return f"{name[:1]}***@{domain_part}" if domain_part else "***"


def csrf_matches(expected: str, presented: str | None) -> bool:
    return presented is not None and bool(presented) and hmac.compare_digest(expected.encode(), presented.encode())


def consent_text(language: Language) -> str:
    return CONSENT_TEXT.get(language, CONSENT_TEXT["en"])


def ensure_actionable(
    action: dict[str, Any] | None, ctx: SessionContext, now: datetime | None = None
) -> dict[str, Any]:
    """The action exists for this contact and tenant and is still open; otherwise 404, or 409 once closed."""
    if action is None or action["tenant_id"] != ctx.tenant_id or action["contact_id"] != ctx.contact_id:
        raise NotFound("There is no such action for you.")
    status = action["status"]
    if status == "completed":
        raise Conflict("This action is already signed.", code="already_signed")
    if status == "declined":
        raise Conflict("This action is already declined.", code="already_declined")
    if status == "cancelled":
        raise Conflict(
            "This request was cancelled by the sender; it can no longer be signed or declined.", code="cancelled"
        )
    if status != "open":
        raise Conflict(
            "This request has expired; it can no longer be signed or declined. Ask the sender for a new one.",
            code="expired",
        )
    expires_at = action.get("expires_at")
    if expires_at is not None:
        if expires_at.tzinfo is None:
            expires_at = expires_at.replace(tzinfo=UTC)
        if expires_at <= (now or datetime.now(UTC)):
            raise Conflict(
                "This request has expired; it can no longer be signed or declined. Ask the sender for a new one.",
                code="expired",
            )
    return action


def _is_empty(value: FieldValue) -> bool:
    if value is None:
        return True
    if isinstance(value, str):
        return not value.strip()
    return value is False


def clean_fields(specs: list[FieldSpec], values: dict[str, FieldValue]) -> dict[str, FieldValue]:
    """Every required field present and non-empty; only known fields kept; text trimmed and bounded."""
    errors = []
    cleaned: dict[str, FieldValue] = {}
    for spec in specs:
        value = values.get(spec.name)
        if isinstance(value, str):
            value = value.strip()
            if len(value) > MAX_FIELD_LENGTH:
                errors.append(
                    {"field": f"fields.{spec.name}", "code": "too_long", "message": f"{spec.label}: too long"}
                )
                continue
        if spec.type == "checkbox" and isinstance(value, str):
            value = value.lower() in ("on", "true", "1", "yes")
        if spec.required and _is_empty(value):
            errors.append({"field": f"fields.{spec.name}", "code": "required", "message": f"{spec.label} is required"})
            continue
        cleaned[spec.name] = value
    if errors:
        names = ", ".join(e["field"].removeprefix("fields.") for e in errors)
        raise Invalid(f"Please fill in: {names}", errors=errors)
    return cleaned


def require_consent(consent: bool) -> None:
    if consent is not True:
        raise Invalid(
            "Please confirm that you agree.",
            errors=[{"field": "consent", "code": "required", "message": "consent is required"}],
        )


def ensure_consent_current(presented_version: str | None) -> None:
    """A signer agrees to the consent text they were shown; if it changed since, they must see the new one."""
    if presented_version and presented_version != CONSENT_VERSION:
        raise Conflict("The consent text changed, please review it again.", code="consent_changed")


def decode_signature_image(encoded: str | None, max_bytes: int) -> tuple[bytes, str]:
    """Base64 → bytes, refused when empty, too large, or not a PNG/JPEG by its magic bytes."""

    def refuse(message: str) -> Invalid:
        return Invalid(message, errors=[{"field": "signature", "message": message}])

    if not encoded or not encoded.strip():
        raise refuse("The signature is empty.")
    data = encoded.strip()
    if data.startswith("data:"):
        data = data.partition(",")[2]
    if len(data) > (max_bytes * 4) // 3 + 8:
        raise refuse(f"The signature image is larger than {max_bytes // 1024} KB.")
    try:
        raw = base64.b64decode(data, validate=True)
    except (binascii.Error, ValueError):
        raise refuse("The signature is not valid base64.") from None
    if not raw:
        raise refuse("The signature is empty.")
    if len(raw) > max_bytes:
        raise refuse(f"The signature image is larger than {max_bytes // 1024} KB.")
    if raw.startswith(PNG_MAGIC):
        return raw, "image/png"
    if raw.startswith(JPEG_MAGIC):
        return raw, "image/jpeg"
    raise refuse("The signature must be a PNG or JPEG image.")


def ensure_document_unchanged(action: dict[str, Any], presented_digest: str | None) -> None:
    """A document signature is only for the exact version the signer was shown."""
    if action["kind"] != "sign_document":
        return
    if not presented_digest:
        raise Invalid(
            "document_digest is required to sign a document",
            errors=[{"field": "document_digest", "message": "required to sign a document"}],
        )
    pinned = action.get("document_digest")
    if not pinned or not hmac.compare_digest(pinned, presented_digest):
        raise Conflict("This document changed, please review it again.", code="document_changed")


def task_digest(task: dict[str, Any], action: dict[str, Any]) -> str:
    """What a sign_task signer approves, as one digest: the task's title and description, the fields asked for
    and the request's message. The page carries it and the submit sends it back (see ensure_task_unchanged)."""
    shown = {
        "title": task.get("title", ""),
        "description": task.get("description", ""),
        "message": action.get("message") or "",
        "fields": [{k: f.get(k) for k in ("name", "label", "type", "required")} for f in action.get("fields") or []],
    }
    return hashlib.sha256(json.dumps(shown, sort_keys=True, separators=(",", ":")).encode()).hexdigest()


def ensure_task_unchanged(action: dict[str, Any], current_digest: str, presented_digest: str | None) -> None:
    """A task approval is for the content the signer was shown: if it changed since, they must see it again.
    (API clients that send no digest approve the content current at signing, which the evidence records.)"""
    if action["kind"] != "sign_task" or not presented_digest:
        return
    if not hmac.compare_digest(current_digest, presented_digest):
        raise Conflict("This task changed, please review it again.", code="task_changed")


def clean_reason(reason: str | None) -> str:
    text = (reason or "").strip()
    if not text:
        raise Invalid(
            "Please give a reason.", errors=[{"field": "reason", "code": "required", "message": "reason is required"}]
        )
    if len(text) > MAX_REASON_LENGTH:
        raise Invalid(
            "The reason is too long.", errors=[{"field": "reason", "code": "too_long", "message": "too long"}]
        )
    return text


def digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()
