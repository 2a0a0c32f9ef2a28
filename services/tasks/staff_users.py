"""Staff users of the console: who they are, their roles, their passwords' rules and their sessions' limits."""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta
from typing import Literal

from pydantic import BaseModel

from contracts.errors import Forbidden, Invalid

Role = Literal["admin", "member"]
ROLES: tuple[Role, ...] = ("admin", "member")
TokenPurpose = Literal["invitation", "reset"]
MIN_PASSWORD, MAX_PASSWORD = 12, 256


class StaffUser(BaseModel):
    id: str
    tenant_id: str
    email: str
    name: str
    role: Role
    language: Literal["nl", "en"] = "nl"
    # None until the invitation is accepted: such a user cannot sign in yet.
    password_hash: str | None = None
    active: bool = True
    created_at: datetime

    @property
    def display_name(self) -> str:
        return self.name or self.email

    def can_sign_in(self) -> bool:
        return self.active and self.password_hash is not None


class ConsoleSession(BaseModel):
    id: str  # the SHA-256 of the cookie's secret
    user_id: str
    tenant_id: str
    csrf_token: str
    created_at: datetime
    seen_at: datetime

    def expired(self, now: datetime, idle: timedelta, absolute: timedelta) -> bool:
        return now - self.seen_at > idle or now - self.created_at > absolute


def require_password(password: str) -> str:
    if len(password) < MIN_PASSWORD:
        raise Invalid(
            f"a password needs at least {MIN_PASSWORD} characters",
            errors=[{"field": "password", "message": "too_short"}],
        )
    if len(password) > MAX_PASSWORD:
        raise Invalid(
            f"a password has at most {MAX_PASSWORD} characters", errors=[{"field": "password", "message": "too_long"}]
        )
    return password


def require_role(role: str) -> Role:
    if role not in ROLES:
        raise Invalid(f"role must be one of {', '.join(ROLES)}", errors=[{"field": "role", "message": "unknown"}])
    return role


def require_admin(user: StaffUser) -> None:
    if user.role != "admin":
        raise Forbidden("this page is for the tenant's admins")


def new_secret() -> str:
    return secrets.token_urlsafe(32)


def digest(secret: str) -> str:
    """Tokens and session ids are stored as hashes: a database read alone opens nothing."""
    return hashlib.sha256(secret.encode()).hexdigest()


def email_key(email: str) -> str:
    return email.strip().casefold()
