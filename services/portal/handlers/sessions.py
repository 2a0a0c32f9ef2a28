"""Magic link in, server-side session out; the cookie holds only a random id whose hash keys the session."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import timedelta

from pymongo.errors import DuplicateKeyError

from contracts.errors import DomainError
from contracts.portal_link import InvalidLink, PortalLink, read
from services.portal.domain import Brand, SessionContext, mask_email
from services.portal.unit_of_work import UnitOfWork
from services.runtime.mongo import Session


class LinkRefused(DomainError):
    """A magic link that cannot open a session; `reason` picks the friendly page."""

    def __init__(self, reason: str, status: int, language: str | None = None, owner: tuple[str, str] | None = None):
        super().__init__(f"link {reason}")
        self.reason = reason
        self.status = status
        self.language = language
        self.owner = owner  # (tenant_id, contact_id) of a genuine link


@dataclass(frozen=True)
class LinkPreview:
    """Who a magic link signs in, shown before it is used: an attacker's link must not log a victim in unseen."""

    name: str
    email: str  # masked
    language: str | None
    brand: Brand | None = None  # the tenant's, so the confirmation already looks like it


@dataclass(frozen=True)
class NewSession:
    cookie_value: str
    context: SessionContext
    task_id: str | None = None  # the task the link was sent about


def session_hash(cookie_value: str) -> str:
    return hashlib.sha256(cookie_value.encode()).hexdigest()


async def _check(uow: UnitOfWork, token: str) -> tuple[PortalLink, dict]:
    """The link and its contact, or the refusal the contact should read."""
    try:
        link = read(uow.settings.portal_link_secret, token)
    except InvalidLink:
        raise LinkRefused("invalid", 400) from None
    contact = await uow.store.contact(link.tenant_id, link.contact_id) or {}
    language = contact.get("language")
    if link.expired:
        raise LinkRefused("expired", 410, language)
    if contact.get("archived"):
        raise LinkRefused("invalid", 400, language)
    if link.generation < contact.get("link_generation", 0):
        raise LinkRefused("revoked", 410, language)
    return link, contact


async def preview(uow: UnitOfWork, token: str) -> LinkPreview:
    """Checks the link as login would, without using it (a mail scanner's GET must not burn it)."""
    link, contact = await _check(uow, token)
    if await uow.store.link_used(link.link_id):
        raise LinkRefused("used", 410, contact.get("language"), (link.tenant_id, link.contact_id))
    return LinkPreview(
        name=contact.get("name", ""),
        email=mask_email(contact.get("email", "")),
        language=contact.get("language"),
        brand=Brand.of(await uow.store.brand(link.tenant_id)),
    )


async def login(uow: UnitOfWork, token: str, ip: str, user_agent: str) -> NewSession:
    link, contact = await _check(uow, token)
    language = contact.get("language")
    cookie_value = secrets.token_urlsafe(32)
    now = uow.clock()
    context = SessionContext(
        session_id=session_hash(cookie_value)[:32],
        tenant_id=link.tenant_id,
        contact_id=link.contact_id,
        csrf_token=secrets.token_urlsafe(32),
        language=contact.get("language", "nl"),
    )

    async def work(session: Session) -> None:
        await uow.store.use_link(
            {
                "link_id": link.link_id,
                "tenant_id": link.tenant_id,
                "contact_id": link.contact_id,
                "used_at": now,
                "ip": ip,
            },
            session,
        )
        await uow.store.create_session(
            {
                "_id": session_hash(cookie_value),
                "session_id": context.session_id,
                "tenant_id": link.tenant_id,
                "contact_id": link.contact_id,
                "csrf_token": context.csrf_token,
                "language": None,
                "auth_method": "magic_link",
                "link_id": link.link_id,
                "link_generation": link.generation,
                "created_at": now,
                "expires_at": now + timedelta(hours=uow.settings.session_hours),
                "ip": ip,
                "user_agent": user_agent,
            },
            session,
        )

    try:
        await uow.outbox.transaction(work)
    except DuplicateKeyError:
        raise LinkRefused("used", 410, language, (link.tenant_id, link.contact_id)) from None
    return NewSession(cookie_value, context, link.task_id)


async def resume(uow: UnitOfWork, cookie_value: str | None) -> SessionContext | None:
    if not cookie_value:
        return None
    doc = await uow.store.find_session(session_hash(cookie_value), uow.clock())
    if doc is None:
        return None
    contact = await uow.store.contact(doc["tenant_id"], doc["contact_id"]) or {}
    if contact.get("archived") or doc.get("link_generation", 0) < contact.get("link_generation", 0):
        return None  # an archived contact's sessions end with it, and so do those of revoked links
    # Until the contact switches, follow their language as tasks knows it.
    language = doc.get("language") or contact.get("language", "nl")
    tenant = await uow.store.brand(doc["tenant_id"])
    return SessionContext(
        session_id=doc["session_id"],
        tenant_id=doc["tenant_id"],
        contact_id=doc["contact_id"],
        csrf_token=doc["csrf_token"],
        language=language,
        auth_method=doc.get("auth_method", "magic_link"),
        brand=Brand.of(tenant),
        time_zone=(tenant or {}).get("time_zone"),
    )


async def set_language(uow: UnitOfWork, cookie_value: str, language: str) -> None:
    await uow.store.set_session_language(session_hash(cookie_value), language)


async def logout(uow: UnitOfWork, cookie_value: str) -> None:
    await uow.store.delete_session(session_hash(cookie_value))
