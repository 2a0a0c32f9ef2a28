"""Staff users of the console, for integrations holding the admin key: invite one, list them."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter
from pydantic import BaseModel, Field

from services.runtime.staff_auth import CurrentStaff
from services.tasks.entrypoints.api.deps import UowDep
from services.tasks.handlers import accounts

router = APIRouter(prefix="/v1/staff-users", tags=["staff users"])


class InvitationIn(BaseModel):
    email: str = Field(max_length=320, examples=["anna@example.nl"])
    name: str = Field("", max_length=200)
    role: Literal["admin", "member"] = "member"
    language: Literal["nl", "en"] = "nl"


class InvitationOut(BaseModel):
    user_id: str
    email: str
    role: str
    invitation_url: str
    mailed: bool = Field(description="False when the mail could not be sent: hand the link over another way.")


class StaffUserOut(BaseModel):
    id: str
    email: str
    name: str
    role: str
    active: bool
    invitation_pending: bool


@router.post(
    "",
    status_code=201,
    response_model=InvitationOut,
    summary="Invite a staff user to the console (admin key; the single-use link is mailed and returned)",
)
async def invite(body: InvitationIn, staff: CurrentStaff, uow: UowDep) -> dict:
    return await accounts.invite(uow, staff, **body.model_dump())


@router.get("", response_model=list[StaffUserOut], summary="The tenant's staff users (admin key)")
async def list_users(staff: CurrentStaff, uow: UowDep) -> list[dict]:
    users = await accounts.list_users(uow, staff)
    return [
        {
            **u.model_dump(include={"id", "email", "name", "role", "active"}),
            "invitation_pending": u.password_hash is None,
        }
        for u in users
    ]
