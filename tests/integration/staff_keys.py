"""Given a tenant with a staff key, as tasks would announce it: for services that project the keys."""

from __future__ import annotations

import secrets

import httpx

from contracts import new_id
from contracts.messages import (
    StaffKeyIssued,
    StaffKeyIssuedPayload,
    TenantRegistered,
    TenantRegisteredPayload,
    TenantTimeZoneChanged,
    TenantTimeZonePayload,
)
from contracts.topics import TASKS_EVENTS
from services.runtime.staff_auth import hash_key
from tests.support.bus import publish
from tests.support.waiting import eventually


async def a_tenant_with_staff_key(
    bootstrap: str, service_url: str, probe_path: str, time_zone: str | None = None, moved_to: str | None = None
) -> tuple[str, str]:
    """Publish tenant.registered (and tenant.time_zone_changed to `moved_to`) + staff_key.issued, then wait until
    `service_url` accepts the key (so it has projected what came before it on the tenant's partition too)."""
    tenant_id, secret = new_id(), secrets.token_urlsafe(24)
    zone = {"time_zone": time_zone} if time_zone else {}  # none: the default, as tenants registered before zones
    await publish(
        bootstrap,
        TASKS_EVENTS,
        TenantRegistered(tenant_id=tenant_id, payload=TenantRegisteredPayload(name="Acme", plan="premium", **zone)),
        *(
            [TenantTimeZoneChanged(tenant_id=tenant_id, payload=TenantTimeZonePayload(time_zone=moved_to))]
            if moved_to
            else []
        ),
        StaffKeyIssued(
            tenant_id=tenant_id,
            payload=StaffKeyIssuedPayload(key_id=new_id(), key_hash=hash_key(secret), name="staff", role="staff"),
        ),
    )

    async def known() -> bool:
        async with httpx.AsyncClient() as client:
            r = await client.get(f"{service_url}{probe_path}", headers={"Authorization": f"Bearer {secret}"})
        return r.status_code == 200

    await eventually(known, what="the staff key projected into the service")
    return tenant_id, secret
