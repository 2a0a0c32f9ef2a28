"""Tenants and their staff API keys (tasks owns them; other services project the events)."""

from __future__ import annotations

import secrets

from contracts import Actor, new_id
from contracts.errors import Conflict, Forbidden
from contracts.messages import (
    StaffKeyIssued,
    StaffKeyIssuedPayload,
    StaffKeyRevoked,
    StaffKeyRevokedPayload,
    TenantRegistered,
    TenantRegisteredPayload,
    TenantTimeZoneChanged,
    TenantTimeZonePayload,
)
from contracts.topics import TASKS_EVENTS
from services.runtime.mongo import Session
from services.runtime.staff_auth import DEFAULT_TIME_ZONE, Staff, hash_key
from services.tasks.adapters.idempotency import IdempotencyKey
from services.tasks.domain import DEFAULT_PHASES, require_time_zone
from services.tasks.unit_of_work import UnitOfWork, commit, staff_actor

OPERATOR = Actor(kind="system", id="operator")
DEMO_TENANT = "demo"


def new_secret() -> str:
    return "ak_" + secrets.token_urlsafe(32)


async def _issue_key(
    uow: UnitOfWork, session: Session, tenant_id: str, *, name: str, role: str, actor: Actor, secret: str | None = None
) -> dict:
    secret = secret or new_secret()
    key_hash = hash_key(secret)
    if await uow.store.key_hash_taken(key_hash, session):
        raise Conflict("this key is already in use; choose another secret")
    key_id = new_id()
    await uow.staff_keys.save_key(tenant_id, key_id, key_hash, role, name, session)
    await uow.outbox.add(
        session,
        TASKS_EVENTS,
        StaffKeyIssued(
            tenant_id=tenant_id,
            actor=actor,
            payload=StaffKeyIssuedPayload(key_id=key_id, key_hash=key_hash, name=name, role=role),
        ),
    )
    return {"key_id": key_id, "name": name, "role": role, "key": secret}


async def _register(
    uow: UnitOfWork,
    session: Session,
    tenant_id: str,
    name: str,
    plan: str,
    staff_key: str | None,
    time_zone: str = DEFAULT_TIME_ZONE,
) -> dict:
    await uow.store.insert_tenant(tenant_id, name, plan, list(DEFAULT_PHASES), session, time_zone=time_zone)
    await uow.staff_keys.save_tenant(tenant_id, name, plan, session, time_zone=time_zone)
    await uow.outbox.add(
        session,
        TASKS_EVENTS,
        TenantRegistered(
            tenant_id=tenant_id,
            actor=OPERATOR,
            payload=TenantRegisteredPayload(name=name, plan=plan, time_zone=time_zone),
        ),
    )
    admin = await _issue_key(uow, session, tenant_id, name="admin", role="admin", actor=OPERATOR)
    staff = await _issue_key(uow, session, tenant_id, name="staff", role="staff", actor=OPERATOR, secret=staff_key)
    return {
        "tenant_id": tenant_id,
        "name": name,
        "plan": plan,
        "time_zone": time_zone,
        "admin_key": admin["key"],
        "staff_key": staff["key"],
    }


async def register_tenant(
    uow: UnitOfWork, name: str, plan: str, staff_key: str | None, time_zone: str = DEFAULT_TIME_ZONE
) -> dict:
    """A new tenant with the default phases, an admin key and a staff key (secrets returned once)."""
    return await commit(uow, lambda session: _register(uow, session, new_id(), name, plan, staff_key, time_zone))


async def set_time_zone(uow: UnitOfWork, staff: Staff, time_zone: str) -> dict:
    """The zone of the tenant's proof (stamped dates, certificates) and of its contacts' portal pages. Announced
    even when unchanged, so a service that missed the tenant's registration learns it."""
    if not staff.is_admin:
        raise Forbidden("the tenant's time zone is changed by an admin")
    time_zone = require_time_zone(time_zone)

    async def work(session: Session) -> dict:
        await uow.store.get_tenant(staff.tenant_id, session)
        await uow.store.set_time_zone(staff.tenant_id, time_zone, session)
        await uow.staff_keys.set_time_zone(staff.tenant_id, time_zone, session)
        await uow.outbox.add(
            session,
            TASKS_EVENTS,
            TenantTimeZoneChanged(
                tenant_id=staff.tenant_id, actor=staff_actor(staff), payload=TenantTimeZonePayload(time_zone=time_zone)
            ),
        )
        return {"time_zone": time_zone}

    return await commit(uow, work)


async def ensure_demo_tenant(uow: UnitOfWork) -> str:
    """The demo tenant and its staff key, created once; returns the staff key (the same on every run)."""
    wanted = uow.settings.demo_staff_key
    seed = await uow.store.get_seed(DEMO_TENANT)
    if seed is not None and (wanted is None or wanted == seed["staff_key"]):
        return seed["staff_key"]

    async def work(session: Session) -> str:
        if seed is None:
            created = await _register(uow, session, DEMO_TENANT, "Demo", "premium", wanted)
            await uow.store.save_seed(
                DEMO_TENANT, {"staff_key": created["staff_key"], "admin_key": created["admin_key"]}, session
            )
            return created["staff_key"]
        # The configured demo key changed since the last seed: issue it too.
        issued = await _issue_key(uow, session, DEMO_TENANT, name="staff", role="staff", actor=OPERATOR, secret=wanted)
        await uow.store.save_seed(DEMO_TENANT, {**seed, "staff_key": issued["key"]}, session)
        return issued["key"]

    return await commit(uow, work)


def require_admin(staff: Staff) -> None:
    if not staff.is_admin:
        raise Forbidden("managing API keys needs the tenant's admin key")


async def create_key(uow: UnitOfWork, staff: Staff, name: str, role: str, idem: IdempotencyKey | None) -> dict:
    require_admin(staff)
    return await commit(
        uow,
        lambda session: _issue_key(uow, session, staff.tenant_id, name=name, role=role, actor=staff_actor(staff)),
        idem,
        secrets=("key",),
    )


async def revoke_key(uow: UnitOfWork, staff: Staff, key_id: str) -> None:
    require_admin(staff)

    async def work(session: Session) -> None:
        key = await uow.store.get_key(staff.tenant_id, key_id, session)
        if key.get("revoked"):
            return
        await uow.staff_keys.revoke(staff.tenant_id, key_id, session)
        await uow.outbox.add(
            session,
            TASKS_EVENTS,
            StaffKeyRevoked(
                tenant_id=staff.tenant_id, actor=staff_actor(staff), payload=StaffKeyRevokedPayload(key_id=key_id)
            ),
        )

    await commit(uow, work)


async def list_keys(uow: UnitOfWork, staff: Staff) -> list[dict]:
    require_admin(staff)
    return [
        {"key_id": k["key_id"], "name": k["name"], "role": k["role"], "revoked": k.get("revoked", False)}
        for k in await uow.store.list_keys(staff.tenant_id)
    ]
