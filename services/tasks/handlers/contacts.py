"""Contacts (the external people who sign) and their magic links into the portal."""

from __future__ import annotations

import hashlib
from datetime import timedelta
from typing import Any

from contracts import new_id, portal_link
from contracts.messages import ContactPayload, ContactRegistered, ContactUpdated
from contracts.topics import TASKS_EVENTS
from services.runtime.mongo import Session
from services.runtime.staff_auth import Staff
from services.tasks.adapters.idempotency import IdempotencyKey
from services.tasks.domain import Contact, require_email
from services.tasks.handlers.views import contact_view
from services.tasks.unit_of_work import UnitOfWork, commit, now, staff_actor


async def _contact_changed(uow: UnitOfWork, session: Session, staff: Staff, contact: Contact, *, new: bool) -> None:
    await uow.store.save_contact(contact, session)
    message = ContactRegistered if new else ContactUpdated
    await uow.outbox.add(
        session,
        TASKS_EVENTS,
        message(
            tenant_id=staff.tenant_id,
            actor=staff_actor(staff),
            payload=ContactPayload(
                contact=contact.ref(), archived=contact.archived, link_generation=contact.link_generation
            ),
        ),
    )


async def create_contact(
    uow: UnitOfWork,
    staff: Staff,
    *,
    name: str,
    email: str,
    company: str | None,
    language: str,
    idem: IdempotencyKey | None = None,
) -> dict:
    at = now()
    contact = Contact(
        id=new_id(),
        tenant_id=staff.tenant_id,
        name=name,
        email=require_email(email),
        company=company,
        language=language,
        created_at=at,
        updated_at=at,
    )

    async def work(session: Session) -> dict:
        await _contact_changed(uow, session, staff, contact, new=True)
        return contact_view(contact)

    return await commit(uow, work, idem)


async def get_contact(uow: UnitOfWork, staff: Staff, contact_id: str) -> dict:
    return contact_view(await uow.store.get_contact(staff.tenant_id, contact_id))


async def list_contacts(
    uow: UnitOfWork,
    staff: Staff,
    *,
    company: str | None,
    email: str | None,
    include_archived: bool,
    limit: int,
    offset: int,
) -> list[dict]:
    contacts = await uow.store.list_contacts(
        staff.tenant_id, company=company, email=email, include_archived=include_archived, limit=limit, offset=offset
    )
    return [contact_view(c) for c in contacts]


async def update_contact(uow: UnitOfWork, staff: Staff, contact_id: str, changes: dict[str, Any]) -> dict:
    """Change some of name, email, company, language; emits contact.updated when anything changed."""
    if "email" in changes:
        changes["email"] = require_email(changes["email"])

    async def work(session: Session) -> dict:
        contact = await uow.store.get_contact(staff.tenant_id, contact_id, session)
        contact.require_active()
        if any(getattr(contact, k) != v for k, v in changes.items()):
            contact = contact.model_copy(update={**changes, "updated_at": now()})
            await _contact_changed(uow, session, staff, contact, new=False)
        return contact_view(contact)

    return await commit(uow, work)


async def archive_contact(uow: UnitOfWork, staff: Staff, contact_id: str) -> dict:
    """Archived contacts keep their history but get no new requests or links."""

    async def work(session: Session) -> dict:
        contact = await uow.store.get_contact(staff.tenant_id, contact_id, session)
        if not contact.archived:
            contact = contact.model_copy(update={"archived": True, "updated_at": now()})
            await _contact_changed(uow, session, staff, contact, new=False)
        return contact_view(contact)

    return await commit(uow, work)


async def create_portal_link(
    uow: UnitOfWork, staff: Staff, contact_id: str, idem: IdempotencyKey | None = None
) -> dict:
    """A signed, short-lived, single-use magic link; tasks keeps only its hash."""
    settings = uow.settings

    async def work(session: Session) -> dict:
        contact = await uow.store.get_contact(staff.tenant_id, contact_id, session)
        contact.require_active()
        link = portal_link.PortalLink(
            link_id=new_id(),
            tenant_id=staff.tenant_id,
            contact_id=contact.id,
            expires_at=now() + timedelta(minutes=settings.portal_link_ttl_minutes),
            generation=contact.link_generation,
        )
        token = portal_link.sign(settings.portal_link_secret, link)
        await uow.store.insert_portal_link(
            {
                "_id": link.link_id,
                "tenant_id": link.tenant_id,
                "contact_id": contact.id,
                "token_hash": hashlib.sha256(token.encode()).hexdigest(),
                "expires_at": link.expires_at,
                "created_by": staff.key_id,
                "created_at": now(),
            },
            session,
        )
        return {
            "link_id": link.link_id,
            "contact_id": contact.id,
            "url": f"{settings.portal_url.rstrip('/')}/login?token={token}",
            "expires_at": link.expires_at,
        }

    return await commit(uow, work, idem, secrets=("url",))


async def revoke_portal_links(uow: UnitOfWork, staff: Staff, contact_id: str) -> dict:
    """Every magic link issued to the contact so far stops working, and the portal sessions they opened end:
    the contact's link generation goes up, and the portal learns it from contact.updated."""

    async def work(session: Session) -> dict:
        contact = await uow.store.get_contact(staff.tenant_id, contact_id, session)
        contact = contact.model_copy(update={"link_generation": contact.link_generation + 1, "updated_at": now()})
        await _contact_changed(uow, session, staff, contact, new=False)
        return contact_view(contact)

    return await commit(uow, work)
