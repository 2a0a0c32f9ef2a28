"""Outgoing webhooks, the pure part: endpoints as data, Standard Webhooks signing, the retry schedule.

Signing follows https://www.standardwebhooks.com: the secret is `whsec_<base64 key>`, the signed
content is `<webhook-id>.<webhook-timestamp>.<body>`, and `webhook-signature` is `v1,<base64 HMAC-SHA256>`.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Literal
from urllib.parse import urlparse

from pydantic import BaseModel, ConfigDict, Field, field_validator

from contracts.messages import WEBHOOK_MESSAGES, type_name
from services.automation.addresses import IPNetwork, internal_name, literal_address, refusal

SUBSCRIBABLE = frozenset(type_name(m) for m in WEBHOOK_MESSAGES)
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


def check_url(url: str, *, allowed: Iterable[IPNetwork] = ()) -> str | None:
    """Why `url` cannot receive webhooks, or None: HTTPS to a public host, so a tenant cannot point
    Akkoord at its own network. Plain HTTP and internal addresses only within the `allowed` networks
    (receivers on a developer's machine). A name is judged again by its addresses at send time."""
    parsed = urlparse(url)
    try:
        host = parsed.hostname or ""
        parsed.port  # noqa: B018 - raises for a port that is not a number
    except ValueError:
        return "the URL is not valid"
    if parsed.scheme not in ("http", "https") or not host:
        return "the URL must be https://"
    address = literal_address(host)
    in_allowed = address is not None and any(address in network for network in allowed)
    if parsed.scheme != "https" and not in_allowed:
        return "the URL must be https://"
    if address is not None and (why := refusal(address, allowed)):
        return f"the URL must point to a public host ({why})"
    if address is None and internal_name(host) and not allowed:  # with an allow-list, judged when sending
        return f"the URL must point to a public host ({host} is an internal name)"
    return None


def new_secret() -> str:
    return "whsec_" + base64.b64encode(secrets.token_bytes(24)).decode()


def sign(secret: str, msg_id: str, timestamp: int, body: bytes) -> str:
    key = base64.b64decode(secret.removeprefix("whsec_"))
    digest = hmac.new(key, f"{msg_id}.{timestamp}.".encode() + body, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


def headers(secret: str, msg_id: str, timestamp: int, body: bytes) -> dict[str, str]:
    return {
        "webhook-id": msg_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": sign(secret, msg_id, timestamp, body),
        "content-type": "application/json",
    }


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
