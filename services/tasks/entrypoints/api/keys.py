"""Staff API keys, managed with the tenant's admin key."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Request, Response
from pydantic import BaseModel, Field

from services.runtime.staff_auth import CurrentStaff
from services.tasks.entrypoints.api.deps import IdempotencyHeader, UowDep, idempotency
from services.tasks.handlers import tenants

router = APIRouter(prefix="/v1/keys", tags=["keys"])


class KeyIn(BaseModel):
    name: str = Field(min_length=1, max_length=100, examples=["planning office"])
    role: Literal["staff", "admin"] = "staff"


class KeyInfo(BaseModel):
    key_id: str
    name: str
    role: str
    revoked: bool


class KeyList(BaseModel):
    items: list[KeyInfo]


class KeyOut(BaseModel):
    key_id: str
    name: str
    role: str
    key: str = Field(description="The secret, shown only now; Akkoord keeps its hash.")


@router.post("", status_code=201, response_model=KeyOut, summary="Issue a staff API key (admin key only)")
async def create_key(
    body: KeyIn, request: Request, staff: CurrentStaff, uow: UowDep, idempotency_key: IdempotencyHeader = None
) -> dict:
    return await tenants.create_key(
        uow, staff, body.name, body.role, idempotency(request, staff, idempotency_key, body)
    )


@router.get("", response_model=KeyList, summary="List the tenant's API keys (never the secrets)")
async def list_keys(staff: CurrentStaff, uow: UowDep) -> dict:
    return {"items": await tenants.list_keys(uow, staff)}


@router.delete("/{key_id}", status_code=204, summary="Revoke an API key (admin key only)")
async def revoke_key(key_id: str, staff: CurrentStaff, uow: UowDep) -> Response:
    await tenants.revoke_key(uow, staff, key_id)
    return Response(status_code=204)
