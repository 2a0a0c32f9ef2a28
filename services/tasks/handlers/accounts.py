"""Staff users: invitations, sign-in, sessions with idle and absolute limits, password resets, roles."""

from __future__ import annotations

import logging
from datetime import timedelta

from contracts import new_id
from contracts.errors import Conflict, Forbidden, Invalid, NotFound
from services.runtime.mongo import Session
from services.runtime.staff_auth import DEFAULT_TIME_ZONE, Staff
from services.tasks.adapters.mail import MailNotSent
from services.tasks.adapters.passwords import hash_password, verify_password
from services.tasks.domain import require_email
from services.tasks.staff_users import (
    ConsoleSession,
    Role,
    StaffUser,
    TokenPurpose,
    digest,
    new_secret,
    require_password,
    require_role,
)
from services.tasks.unit_of_work import UnitOfWork, now

log = logging.getLogger(__name__)


class TokenRefused(Exception):
    """An invitation or reset link that is unknown, used or out of date; `reason` names which."""

    def __init__(self, reason: str, language: str | None = None):
        super().__init__(reason)
        self.reason, self.language = reason, language


def staff_of(user: StaffUser, plan: str) -> Staff:
    """The credential a signed-in user acts with: the same handlers as an API key, the user as the actor."""
    return Staff(
        tenant_id=user.tenant_id,
        key_id=f"user:{user.id}",
        role="admin" if user.role == "admin" else "staff",
        plan=plan,
        user_id=user.id,
        user_name=user.display_name,
        user_email=user.email,
    )


async def _issue(
    uow: UnitOfWork, user: StaffUser, purpose: TokenPurpose, valid_for: timedelta, session: Session | None = None
) -> str:
    secret = new_secret()
    await uow.accounts.insert_token(digest(secret), purpose, user, now() + valid_for, session)
    return secret


def _link(uow: UnitOfWork, purpose: TokenPurpose, secret: str) -> str:
    page = "invitation" if purpose == "invitation" else "reset"
    return f"{uow.settings.console_url.rstrip('/')}/{page}/{secret}"


async def invite(uow: UnitOfWork, by: Staff, *, email: str, name: str, role: str, language: str = "nl") -> dict:
    """A new user of `by`'s tenant, who sets a password through a single-use link (mailed, and returned once)."""
    if not by.is_admin:
        raise Forbidden("inviting colleagues needs an admin")
    user = StaffUser(
        id=new_id(),
        tenant_id=by.tenant_id,
        email=require_email(email),
        name=name.strip(),
        role=require_role(role),
        language="en" if language == "en" else "nl",
        created_at=now(),
    )
    settings = uow.settings

    async def work(session: Session) -> str:
        await uow.accounts.insert_user(user, session)
        return await _issue(uow, user, "invitation", timedelta(hours=settings.console_invitation_hours), session)

    secret = await uow.outbox.transaction(work)
    link = _link(uow, "invitation", secret)
    tenant = await uow.store.get_tenant(by.tenant_id)
    try:
        await uow.mailer.send(
            user.email,
            f"Akkoord: invitation to {tenant['name']}",
            f"{by.user_name or 'An admin'} invites you to Akkoord for {tenant['name']}.\n\n"
            f"Choose your password here (the link works once, for "
            f"{settings.console_invitation_hours:g} hours):\n{link}\n",
        )
        mailed = True
    except MailNotSent as failed:
        # The invitation stands: the admin is shown the link once, to hand over another way.
        log.warning("invitation mail to user %s not sent: %s", user.id, failed.reason)
        mailed = False
    return {"user_id": user.id, "email": user.email, "role": user.role, "invitation_url": link, "mailed": mailed}


async def token_user(uow: UnitOfWork, secret: str, purpose: TokenPurpose) -> StaffUser:
    """Who the link is for, or why it no longer works (the page says so before asking for a password)."""
    token = await uow.accounts.find_token(digest(secret), purpose)
    if token is None:
        raise TokenRefused("unknown")
    user = await uow.accounts.user_by_id(token["user_id"])
    if user is None or not user.active:
        raise TokenRefused("unknown")
    if token["used_at"] is not None:
        raise TokenRefused("used", user.language)  # the refusal speaks the user's language
    expires_at = token["expires_at"]
    if expires_at.tzinfo is None:
        expires_at = expires_at.replace(tzinfo=now().tzinfo)
    if expires_at <= now():
        raise TokenRefused("expired", user.language)
    return user


async def set_password_with(uow: UnitOfWork, secret: str, purpose: TokenPurpose, password: str) -> StaffUser:
    """Accept an invitation or a reset: the link is used up, the password set, other sessions ended."""
    user = await token_user(uow, secret, purpose)
    password_hash = await hash_password(require_password(password))

    async def work(session: Session) -> StaffUser:
        if not await uow.accounts.use_token(digest(secret), purpose, now(), session):
            raise TokenRefused("used", user.language)
        changed = user.model_copy(update={"password_hash": password_hash})
        await uow.accounts.save_user(changed, session)
        await uow.accounts.delete_sessions_of(user.id, session)
        return changed

    return await uow.outbox.transaction(work)


async def request_reset(uow: UnitOfWork, email: str) -> None:
    """Mail a reset link if the address has an account; the answer is the same either way."""
    user = await uow.accounts.user_by_email(email)
    if user is None or not user.active:
        return
    minutes = uow.settings.console_reset_minutes
    secret = await _issue(uow, user, "reset", timedelta(minutes=minutes))
    try:
        await uow.mailer.send(
            user.email,
            "Akkoord: choose a new password",
            f"Someone asked to reset your Akkoord password. If it was you, choose a new one "
            f"here (the link works once, for {minutes:g} minutes):\n"
            f"{_link(uow, 'reset', secret)}\n\nIf it was not you, ignore this mail.",
        )
    except MailNotSent as failed:
        # The page answers the same either way (it must not tell whether the address exists); ops see this.
        log.warning("password reset mail to user %s not sent: %s", user.id, failed.reason)


async def sign_in(uow: UnitOfWork, email: str, password: str) -> tuple[str, ConsoleSession] | None:
    """A new session (its cookie secret and record) for the right email and password; None otherwise."""
    user = await uow.accounts.user_by_email(email)
    if not await verify_password(user.password_hash if user else None, password) or user is None:
        return None
    if not user.can_sign_in():
        return None
    secret, at = new_secret(), now()
    console_session = ConsoleSession(
        id=digest(secret), user_id=user.id, tenant_id=user.tenant_id, csrf_token=new_secret(), created_at=at, seen_at=at
    )
    await uow.accounts.insert_session(console_session)
    return secret, console_session


async def session_user(uow: UnitOfWork, secret: str) -> tuple[ConsoleSession, StaffUser, Staff, str] | None:
    """The live session behind a cookie, its user, their credential and their tenant's time zone; None once it
    timed out or ended."""
    console_session = await uow.accounts.get_session(digest(secret))
    if console_session is None:
        return None
    settings, at = uow.settings, now()
    if console_session.expired(
        at, timedelta(minutes=settings.console_idle_minutes), timedelta(hours=settings.console_session_hours)
    ):
        await uow.accounts.delete_session(console_session.id)
        return None
    user = await uow.accounts.user_by_id(console_session.user_id)
    if user is None or not user.can_sign_in() or user.tenant_id != console_session.tenant_id:
        await uow.accounts.delete_session(console_session.id)
        return None
    if at - console_session.seen_at > timedelta(seconds=30):  # one write a half-minute, not one a request
        await uow.accounts.touch_session(console_session.id, at)
    tenant = await uow.store.get_tenant(user.tenant_id)
    zone = tenant.get("time_zone") or DEFAULT_TIME_ZONE
    return console_session, user, staff_of(user, tenant.get("plan", "basic")), zone


async def sign_out(uow: UnitOfWork, secret: str) -> None:
    await uow.accounts.delete_session(digest(secret))


async def list_users(uow: UnitOfWork, by: Staff) -> list[StaffUser]:
    if not by.is_admin:
        raise Forbidden("the users page is for admins")
    return await uow.accounts.list_users(by.tenant_id)


async def change_user(
    uow: UnitOfWork, by: Staff, user_id: str, *, role: Role | None = None, active: bool | None = None
) -> StaffUser:
    """An admin changes a colleague's role or (de)activates them; the tenant always keeps an active admin."""
    if not by.is_admin:
        raise Forbidden("changing users needs an admin")

    async def work(session: Session) -> StaffUser:
        user = await uow.accounts.get_user(by.tenant_id, user_id, session)
        changed = user.model_copy(update={k: v for k, v in (("role", role), ("active", active)) if v is not None})
        losing_admin = user.role == "admin" and user.active and (changed.role != "admin" or not changed.active)
        if losing_admin and await uow.accounts.count_admins(by.tenant_id, session) <= 1:
            raise Conflict("the tenant needs at least one active admin")
        await uow.accounts.save_user(changed, session)
        if not changed.active:
            await uow.accounts.delete_sessions_of(user.id, session)
        return changed

    return await uow.outbox.transaction(work)


async def ensure_user(
    uow: UnitOfWork, tenant_id: str, *, email: str, name: str, role: Role, password: str
) -> StaffUser:
    """A user with this password, created or updated (the demo seed: the same login on every run)."""
    existing = await uow.accounts.user_by_email(email)
    if existing is not None and existing.tenant_id != tenant_id:
        raise Invalid(f"{email} already belongs to another tenant")
    password_hash = await hash_password(require_password(password))
    if existing is None:
        user = StaffUser(
            id=new_id(),
            tenant_id=tenant_id,
            email=require_email(email),
            name=name,
            role=role,
            password_hash=password_hash,
            created_at=now(),
        )
        await uow.accounts.insert_user(user)
        return user
    if await verify_password(existing.password_hash, password):
        return existing
    user = existing.model_copy(update={"password_hash": password_hash, "active": True})
    await uow.accounts.save_user(user)
    return user


async def get_user_by_id(uow: UnitOfWork, by: Staff, user_id: str) -> StaffUser:
    user = await uow.accounts.user_by_id(user_id)
    if user is None or user.tenant_id != by.tenant_id:
        raise NotFound(f"user {user_id} not found")
    return user
