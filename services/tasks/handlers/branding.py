"""The tenant's name, colour and logo, which the portal and the mails show; changed by an admin."""

from __future__ import annotations

import hashlib

from contracts.errors import Forbidden, NotFound
from contracts.messages import TenantBrandingChanged, TenantBrandingPayload
from contracts.topics import TASKS_EVENTS
from services.runtime.mongo import Session
from services.runtime.staff_auth import Staff
from services.tasks.branding import logo_type, require_colour
from services.tasks.unit_of_work import UnitOfWork, commit, staff_actor


def logo_url(uow: UnitOfWork, tenant_id: str, digest: str) -> str:
    """Public (customers' mail clients and browsers load it): under the console's public address."""
    return f"{uow.settings.console_url.rstrip('/')}/brand/{tenant_id}/logo?v={digest[:16]}"


async def set_branding(uow: UnitOfWork, staff: Staff, *, name: str, colour: str | None, logo: bytes | None) -> dict:
    """Everything is checked before anything is written; the change is one event with the logo by reference."""
    if not staff.is_admin:
        raise Forbidden("the tenant's branding is changed by an admin")
    name = name.strip()[:200]
    colour = require_colour(colour) if colour else None
    media_type = logo_type(logo) if logo else None

    async def work(session: Session) -> dict:
        tenant = await uow.store.get_tenant(staff.tenant_id, session)
        changes: dict = {"name": name or tenant["name"], "colour": colour}
        if logo:
            changes.update(logo_type=media_type, logo_digest=hashlib.sha256(logo).hexdigest())
        await uow.store.set_branding(staff.tenant_id, changes, logo or None, session)
        await uow.staff_keys.save_tenant(
            staff.tenant_id,
            changes["name"],
            tenant["plan"],
            session,
            time_zone=tenant.get("time_zone", "Europe/Amsterdam"),
        )
        digest = changes.get("logo_digest", tenant.get("logo_digest"))
        payload = TenantBrandingPayload(
            name=changes["name"],
            colour=colour,
            logo_digest=digest,
            logo_type=changes.get("logo_type", tenant.get("logo_type")),
            logo_url=logo_url(uow, staff.tenant_id, digest) if digest else None,
        )
        await uow.outbox.add(
            session,
            TASKS_EVENTS,
            TenantBrandingChanged(tenant_id=staff.tenant_id, actor=staff_actor(staff), payload=payload),
        )
        return payload.model_dump()

    return await commit(uow, work)


async def tenant_logo(uow: UnitOfWork, tenant_id: str) -> tuple[bytes, str, str]:
    tenant = await uow.store.get_tenant(tenant_id)
    data = await uow.store.logo(tenant_id) if tenant.get("logo_digest") else None
    if data is None:
        raise NotFound("this tenant has no logo")
    return data, tenant["logo_type"], tenant["logo_digest"]
