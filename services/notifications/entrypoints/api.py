"""Staff API: the mails sent about a task (and which failed), and the tenant's mail settings."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel

from contracts.errors import Forbidden, Invalid
from services.notifications.domain import Kind, Prefs, Status
from services.notifications.unit_of_work import UnitOfWork
from services.runtime.mail import MailRefused, address
from services.runtime.staff_auth import CurrentStaff


def get_uow(request: Request) -> UnitOfWork:
    return request.app.state.service.uow


ServiceDep = Annotated[UnitOfWork, Depends(get_uow)]
router = APIRouter(prefix="/v1", tags=["notifications"])


class NotificationOut(BaseModel):
    id: str
    task_id: str | None
    event_id: str
    kind: Kind
    audience: str
    to: str
    language: str
    status: Status
    attempt_count: int
    last_error: str | None
    created_at: datetime
    next_attempt_at: datetime | None
    sent_at: datetime | None


class NotificationList(BaseModel):
    notifications: list[NotificationOut]


@router.get(
    "/notifications",
    summary="The mails decided for the tenant (or one task), newest first, with "
    "their status: pending, sent, or failed with the reason",
)
async def list_notifications(
    who: CurrentStaff, service: ServiceDep, task_id: str | None = None, limit: Annotated[int, Query(ge=1, le=200)] = 50
) -> NotificationList:
    found = await service.store.of_task(who.tenant_id, task_id, limit)
    return NotificationList(
        notifications=[
            NotificationOut(
                **n.model_dump(exclude={"recipient", "facts", "tenant_id"}),
                audience="staff" if n.kind.startswith("staff_") else "contact",
                to=n.recipient.email,
                language=n.recipient.language,
            )
            for n in found
        ]
    )


@router.get("/notification-settings", summary="The tenant's mail settings")
async def get_settings(who: CurrentStaff, service: ServiceDep) -> Prefs:
    return await service.store.prefs_of(who.tenant_id)


@router.put(
    "/notification-settings",
    summary="Set the staff address, the reply-to and which kinds of mail the tenant sends (admin keys only)",
)
async def put_settings(prefs: Prefs, who: CurrentStaff, service: ServiceDep) -> Prefs:
    if not who.is_admin:
        raise Forbidden("only an admin key may change the tenant's mail settings")
    for name in ("staff_address", "reply_to"):
        if value := getattr(prefs, name):
            try:
                address(value)
            except MailRefused:
                raise Invalid(
                    f"{name} is not an e-mail address", errors=[{"field": name, "message": "not an e-mail address"}]
                ) from None
    prefs = prefs.model_copy(update={"disabled": sorted(set(prefs.disabled))})
    await service.store.save_prefs(who.tenant_id, prefs)
    return prefs
