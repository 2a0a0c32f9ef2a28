"""Staff API keys: the hash lookup behind `Authorization: Bearer <key>`.

tasks owns the keys and writes them here directly; every other staff-facing service keeps the same
collection as a projection of tasks' `tenant.registered` / `staff_key.*` events, so no request
waits on a call to tasks. Only SHA-256 hashes are stored.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from typing import Annotated, Any
from urllib.parse import unquote

from fastapi import Depends, Header, HTTPException, Request
from pymongo.asynchronous.database import AsyncDatabase

from contracts import Actor
from contracts.messages import StaffKeyIssued, StaffKeyRevoked, TenantRegistered, TenantTimeZoneChanged
from contracts.topics import TASKS_EVENTS, Groups
from services.runtime.consumer import Consumer
from services.runtime.mongo import Session
from services.runtime.registry import Handlers

DEFAULT_TIME_ZONE = "Europe/Amsterdam"


def hash_key(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


@dataclass(frozen=True)
class Staff:
    tenant_id: str
    key_id: str
    role: str
    plan: str
    # Set when a staff user signed in to the console acts (tasks' console, or another service it calls).
    user_id: str | None = None
    user_name: str | None = None
    user_email: str | None = None

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"

    def actor(self) -> Actor:
        if self.user_id is not None:
            return Actor(kind="staff_user", id=self.user_id, name=self.user_name, email=self.user_email)
        return Actor(kind="staff", id=self.key_id)


class StaffKeys:
    def __init__(self, db: AsyncDatabase[Any]) -> None:
        self.keys = db["staff_keys"]
        self.tenants = db["staff_tenants"]

    async def ensure_indexes(self) -> None:
        await self.keys.create_index("key_id", unique=True)

    async def lookup(self, secret: str) -> Staff | None:
        doc = await self.keys.find_one({"_id": hash_key(secret), "revoked": False})
        if doc is None:
            return None
        tenant = await self.tenants.find_one({"_id": doc["tenant_id"]}) or {}
        return Staff(
            tenant_id=doc["tenant_id"], key_id=doc["key_id"], role=doc["role"], plan=tenant.get("plan", "basic")
        )

    async def save_tenant(
        self, tenant_id: str, name: str, plan: str, session: Session | None = None, time_zone: str = DEFAULT_TIME_ZONE
    ) -> None:
        await self.tenants.update_one(
            {"_id": tenant_id},
            {"$set": {"name": name, "plan": plan, "time_zone": time_zone}},
            upsert=True,
            session=session,
        )

    async def set_time_zone(self, tenant_id: str, time_zone: str, session: Session | None = None) -> None:
        await self.tenants.update_one(
            {"_id": tenant_id}, {"$set": {"time_zone": time_zone}}, upsert=True, session=session
        )

    async def time_zone(self, tenant_id: str, session: Session | None = None) -> str:
        """The tenant's time zone; Europe/Amsterdam for a tenant registered before tenants had one."""
        tenant = await self.tenants.find_one({"_id": tenant_id}, {"time_zone": 1}, session=session) or {}
        return tenant.get("time_zone") or DEFAULT_TIME_ZONE

    async def save_key(
        self, tenant_id: str, key_id: str, key_hash: str, role: str, name: str, session: Session | None = None
    ) -> None:
        await self.keys.update_one(
            {"_id": key_hash},
            {
                "$set": {"tenant_id": tenant_id, "key_id": key_id, "role": role, "name": name},
                "$setOnInsert": {"revoked": False},
            },
            upsert=True,
            session=session,
        )

    async def revoke(self, tenant_id: str, key_id: str, session: Session | None = None) -> bool:
        result = await self.keys.update_one(
            {"tenant_id": tenant_id, "key_id": key_id}, {"$set": {"revoked": True}}, session=session
        )
        return result.matched_count == 1

    # -- the projection, for services other than tasks --

    async def on_tenant_registered(self, event: TenantRegistered, session: Session) -> None:
        p = event.payload
        await self.save_tenant(event.tenant_id, p.name, p.plan, session, time_zone=p.time_zone)

    async def on_time_zone_changed(self, event: TenantTimeZoneChanged, session: Session) -> None:
        # The tenant's events share its key, so this never overtakes the tenant.registered it changes.
        await self.set_time_zone(event.tenant_id, event.payload.time_zone, session)

    async def on_key_issued(self, event: StaffKeyIssued, session: Session) -> None:
        p = event.payload
        await self.save_key(event.tenant_id, p.key_id, p.key_hash, p.role, p.name, session)

    async def on_key_revoked(self, event: StaffKeyRevoked, session: Session) -> None:
        await self.revoke(event.tenant_id, event.payload.key_id, session)

    def projection(self, service: str) -> Consumer:
        return Consumer(
            group=Groups.staff_keys(service),
            topics=(TASKS_EVENTS,),
            description="Projects tenants (their plan and time zone) and staff API key hashes from tasks, to "
            "authenticate staff locally.",
            handlers=Handlers[Session]()
            .on(TenantRegistered, self.on_tenant_registered)
            .on(TenantTimeZoneChanged, self.on_time_zone_changed)
            .on(StaffKeyIssued, self.on_key_issued)
            .on(StaffKeyRevoked, self.on_key_revoked),
        )


# The console (served by tasks) reads other services for the signed-in user: the internal token proves the
# caller is Akkoord, these headers say which tenant and user it acts for. The tenant comes from the user's
# server-side session, never from the browser, and a proxied request is refused like any internal call.
TENANT_HEADER, USER_HEADER, USER_NAME_HEADER, ROLE_HEADER = (
    "X-Akkoord-Tenant",
    "X-Akkoord-User",
    "X-Akkoord-User-Name",
    "X-Akkoord-Role",
)


async def _console_user(request: Request) -> Staff | None:
    headers = request.headers
    token, tenant_id = headers.get("x-internal-token"), headers.get(TENANT_HEADER)
    if not token or not tenant_id or headers.get("x-forwarded-for"):
        return None
    expected = request.app.state.service.runtime.settings.internal_token
    if not hmac.compare_digest(token.encode(), expected.encode()):
        return None
    tenant = await request.app.state.service.runtime.staff_keys.tenants.find_one({"_id": tenant_id})
    if tenant is None:
        return None
    user_id = headers.get(USER_HEADER) or "console"
    role = "admin" if headers.get(ROLE_HEADER) == "admin" else "staff"
    return Staff(
        tenant_id=tenant_id,
        key_id=f"user:{user_id}",
        role=role,
        plan=tenant.get("plan", "basic"),
        user_id=user_id,
        user_name=unquote(headers.get(USER_NAME_HEADER, "")) or None,
    )


async def current_staff(request: Request, authorization: Annotated[str | None, Header()] = None) -> Staff:
    if authorization is None and (user := await _console_user(request)) is not None:
        return user
    scheme, _, secret = (authorization or "").partition(" ")
    if scheme.lower() != "bearer" or not secret:
        raise HTTPException(
            401, "Send a staff API key as 'Authorization: Bearer <key>'", headers={"WWW-Authenticate": "Bearer"}
        )
    staff: Staff | None = await request.app.state.service.runtime.staff_keys.lookup(secret.strip())
    if staff is None:
        raise HTTPException(401, "Unknown or revoked API key", headers={"WWW-Authenticate": "Bearer"})
    return staff


async def internal_caller(
    request: Request,
    x_internal_token: Annotated[str | None, Header()] = None,
    x_forwarded_for: Annotated[str | None, Header()] = None,
) -> None:
    # Services call each other directly; a request that came through the ingress (or any proxy) is
    # a customer's, whatever token it carries.
    if x_forwarded_for:
        raise HTTPException(404, "Not found")
    expected = request.app.state.service.runtime.settings.internal_token
    if not x_internal_token or not hmac.compare_digest(x_internal_token, expected):
        raise HTTPException(401, "This endpoint is for Akkoord's own services")


CurrentStaff = Annotated[Staff, Depends(current_staff)]
InternalCaller = Depends(internal_caller)
