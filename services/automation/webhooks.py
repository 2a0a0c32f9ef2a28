"""Outgoing webhooks, the pure part: endpoints as data, Standard Webhooks signing, the retry schedule.

Signing follows https://www.standardwebhooks.com: the secret is `whsec_<base64 key>`, the signed
content is `<webhook-id>.<webhook-timestamp>.<body>`, and `webhook-signature` is `v1,<base64 HMAC-SHA256>`.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import ipaddress
import secrets
from datetime import datetime, timedelta
from typing import Literal
from urllib.parse import urlparse

from pydantic import BaseModel, ConfigDict, Field, field_validator

from contracts.messages import Kind, messages, type_name

# Events only: internal messages (tenants and keys, timeline's chain order) stay inside Akkoord, and commands
# are not facts.
SUBSCRIBABLE_MESSAGES = messages(kinds=(Kind.EVENT,))
SUBSCRIBABLE = frozenset(type_name(m) for m in SUBSCRIBABLE_MESSAGES)
KEEP_ATTEMPTS = 10  # the last attempts stored per delivery: a failing endpoint cannot grow a document forever


class EndpointSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")

    url: str = Field(max_length=2000, examples=["https://example.com/akkoord/webhooks"])
    event_types: list[str] = Field(min_length=1)
    description: str = ""
    enabled: bool = True

    @field_validator("event_types")
    @classmethod
    def _known_types(cls, value: list[str]) -> list[str]:
        unknown = sorted(set(value) - SUBSCRIBABLE)
        if unknown:
            raise ValueError(f"cannot subscribe to {', '.join(unknown)}")
        return sorted(set(value))


def _internal_host(host: str) -> bool:
    if host == "localhost" or host.endswith((".localhost", ".internal", ".local")):
        return True
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return False  # a name: resolved at send time (see the note in the report on DNS)
    return not address.is_global


def check_url(url: str, *, allow_plain_http_loopback: bool) -> str | None:
    """Why `url` cannot receive webhooks, or None. Plain HTTP only to loopback, and only in development;
    otherwise HTTPS to a public host, so a tenant cannot point Akkoord at its own network."""
    parsed = urlparse(url)
    host = parsed.hostname or ""
    if allow_plain_http_loopback and parsed.scheme in ("http", "https") and host in ("127.0.0.1", "localhost", "::1"):
        return None
    if parsed.scheme != "https" or not host:
        return "the URL must be https://"
    if _internal_host(host):
        return "the URL must point to a public host"
    return None


def new_secret() -> str:
    return "whsec_" + base64.b64encode(secrets.token_bytes(24)).decode()


def sign(secret: str, msg_id: str, timestamp: int, body: bytes) -> str:
    key = base64.b64decode(secret.removeprefix("whsec_"))
    digest = hmac.new(key, f"{msg_id}.{timestamp}.".encode() + body, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


def headers(secret: str, msg_id: str, timestamp: int, body: bytes) -> dict[str, str]:
    return {"webhook-id": msg_id, "webhook-timestamp": str(timestamp),
            "webhook-signature": sign(secret, msg_id, timestamp, body), "content-type": "application/json"}


class RetryPolicy(BaseModel):
    base_seconds: float = 5.0
    max_delay_seconds: float = 3600.0
    give_up_after_seconds: float = 3 * 24 * 3600.0


def next_attempt(policy: RetryPolicy, created_at: datetime, attempts: int, now: datetime) -> datetime | None:
    """When to try again after `attempts` failures (exponential backoff), or None: give up, it failed."""
    delay = min(policy.base_seconds * 2 ** (attempts - 1), policy.max_delay_seconds)
    when = now + timedelta(seconds=delay)
    if when > created_at + timedelta(seconds=policy.give_up_after_seconds):
        return None
    return when


Outcome = Literal["delivered", "retry", "failed"]
