"""Operator routes: register a tenant."""

from __future__ import annotations

from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from fastapi import APIRouter
from pydantic import BaseModel, Field, field_validator

from services.tasks.entrypoints.api.deps import Operator, UowDep
from services.tasks.handlers import tenants

router = APIRouter(prefix="/v1/tenants", tags=["tenants"])


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
        max_length=64,
        examples=["Europe/Amsterdam"],
        description="IANA time zone of the tenant's proof: the stamped signing date, the approval certificate.",
    )

    @field_validator("time_zone")
    @classmethod
    def _a_known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"{value!r} is not an IANA time zone such as Europe/Amsterdam") from None
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
