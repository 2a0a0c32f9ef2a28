"""Operator routes: register a tenant; an admin's: the tenant's time zone."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter
from pydantic import BaseModel, Field, field_validator

from services.runtime.staff_auth import CurrentStaff
from services.tasks.domain import is_time_zone
from services.tasks.entrypoints.api.deps import Operator, UowDep
from services.tasks.handlers import tenants

router = APIRouter(prefix="/v1/tenants", tags=["tenants"])
tenant = APIRouter(prefix="/v1/tenant", tags=["tenants"])


class TenantIn(BaseModel):
    name: str = Field(min_length=1, max_length=200, examples=["Bouwbedrijf De Vries"])
    plan: Literal["premium", "basic"] = "basic"
    staff_key: str | None = Field(
        None,
        min_length=16,
        max_length=200,
        description="A preset secret for the first staff key; generated when absent.",
    )
    time_zone: str = Field(
        "Europe/Amsterdam",
        description="IANA time zone of the tenant's proof (the stamped signing date, the approval certificate) "
        "and of its contacts' portal pages.",
        max_length=64,
        examples=["Europe/Amsterdam"],
    )

    @field_validator("time_zone")
    @classmethod
    def _a_known_zone(cls, value: str) -> str:
        if not is_time_zone(value):
            raise ValueError(f"{value!r} is not an IANA time zone such as Europe/Amsterdam")
        return value


class TenantOut(BaseModel):
    tenant_id: str
    name: str
    plan: str
    time_zone: str
    admin_key: str
    staff_key: str


@router.post(
    "",
    status_code=201,
    dependencies=[Operator],
    response_model=TenantOut,
    summary="Register a tenant with an admin key and a staff key (secrets shown once)",
)
async def register_tenant(body: TenantIn, uow: UowDep) -> dict:
    return await tenants.register_tenant(uow, body.name, body.plan, body.staff_key, body.time_zone)


class TimeZoneIn(BaseModel):
    time_zone: str = Field(max_length=64, examples=["Europe/Amsterdam"], description="An IANA time zone.")


class TimeZoneOut(BaseModel):
    time_zone: str


@tenant.put(
    "/time-zone",
    response_model=TimeZoneOut,
    summary="Change the tenant's time zone (admin key only): proof made from now on and the portal's pages use it",
)
async def set_time_zone(body: TimeZoneIn, staff: CurrentStaff, uow: UowDep) -> dict:
    return await tenants.set_time_zone(uow, staff, body.time_zone)
