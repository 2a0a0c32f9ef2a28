"""tasks.events: tenants and staff keys (projected by every staff-facing service)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel

from contracts.envelope import Envelope


class TenantRegisteredPayload(BaseModel):
    name: str
    plan: Literal["basic", "premium"]
    # The IANA zone the tenant's proof speaks in (a stamped date, the approval certificate).
    time_zone: str = "Europe/Amsterdam"


class TenantRegistered(Envelope):
    type: Literal["tenant.registered"] = "tenant.registered"
    payload: TenantRegisteredPayload


class TenantTimeZonePayload(BaseModel):
    time_zone: str  # an IANA zone (tasks checks it): from now on the zone of the tenant's proof and portal pages


class TenantTimeZoneChanged(Envelope):
    type: Literal["tenant.time_zone_changed"] = "tenant.time_zone_changed"
    payload: TenantTimeZonePayload


class TenantBrandingPayload(BaseModel):
    """How the tenant looks to its customers (portal pages, mails): its name, colour and logo."""

    name: str
    colour: str | None = None  # "#0b57d0"; dark enough for white text (contrast >= 4.5:1)
    # The logo by reference: a public URL of tasks (`/v1/tenants/{id}/logo`) and the SHA-256 of its bytes.
    logo_url: str | None = None
    logo_digest: str | None = None
    logo_type: str | None = None  # image/png | image/jpeg


class TenantBrandingChanged(Envelope):
    type: Literal["tenant.branding_changed"] = "tenant.branding_changed"
    payload: TenantBrandingPayload


class StaffKeyIssuedPayload(BaseModel):
    key_id: str
    key_hash: str  # SHA-256 hex of the secret; the secret itself never leaves tasks
    name: str
    role: Literal["staff", "admin"]


class StaffKeyIssued(Envelope):
    type: Literal["staff_key.issued"] = "staff_key.issued"
    payload: StaffKeyIssuedPayload


class StaffKeyRevokedPayload(BaseModel):
    key_id: str


class StaffKeyRevoked(Envelope):
    type: Literal["staff_key.revoked"] = "staff_key.revoked"
    payload: StaffKeyRevokedPayload
