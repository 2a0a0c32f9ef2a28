"""Contacts: the external people staff ask for signatures, and their portal links."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel, Field

from contracts.models import Language
from services.runtime.staff_auth import CurrentStaff
from services.tasks.entrypoints.api.deps import IdempotencyHeader, PagingDep, UowDep, idempotency, page, patch_changes
from services.tasks.entrypoints.api.schemas import ContactOut, ContactPage, PortalLinkOut
from services.tasks.handlers import contacts

router = APIRouter(prefix="/v1/contacts", tags=["contacts"])


class ContactIn(BaseModel):
    name: str = Field(min_length=1, max_length=200, examples=["Sanne Jansen"])
    email: str = Field(min_length=3, max_length=320, examples=["sanne@example.nl"])
    company: str | None = Field(None, max_length=200, examples=["Jansen Installaties"])
    language: Language = "nl"


class ContactPatch(BaseModel):
    name: str | None = Field(None, min_length=1, max_length=200)
    email: str | None = Field(None, min_length=3, max_length=320)
    company: str | None = Field(None, max_length=200)
    language: Language | None = None


@router.post("", status_code=201, response_model=ContactOut, summary="Create a contact")
async def create_contact(
    body: ContactIn, request: Request, staff: CurrentStaff, uow: UowDep, idempotency_key: IdempotencyHeader = None
) -> dict:
    return await contacts.create_contact(
        uow, staff, **body.model_dump(), idem=idempotency(request, staff, idempotency_key, body)
    )


@router.get("", response_model=ContactPage, summary="List contacts, filtered by company or email, a page at a time")
async def list_contacts(
    staff: CurrentStaff,
    uow: UowDep,
    paging: PagingDep,
    company: Annotated[str | None, Query()] = None,
    email: Annotated[str | None, Query()] = None,
    include_archived: bool = False,
) -> dict:
    items = await contacts.list_contacts(
        uow,
        staff,
        company=company,
        email=email,
        include_archived=include_archived,
        limit=paging.limit + 1,
        offset=paging.offset,
    )
    return page(items, paging)


@router.get("/{contact_id}", response_model=ContactOut, summary="Read a contact")
async def get_contact(contact_id: str, staff: CurrentStaff, uow: UowDep) -> dict:
    return await contacts.get_contact(uow, staff, contact_id)


@router.patch("/{contact_id}", response_model=ContactOut, summary="Change a contact's name, email, company or language")
async def update_contact(contact_id: str, body: ContactPatch, staff: CurrentStaff, uow: UowDep) -> dict:
    return await contacts.update_contact(uow, staff, contact_id, patch_changes(body, ("name", "email", "language")))


@router.post(
    "/{contact_id}/archive",
    response_model=ContactOut,
    summary="Archive a contact: history stays, no new requests or links",
)
async def archive_contact(contact_id: str, staff: CurrentStaff, uow: UowDep) -> dict:
    return await contacts.archive_contact(uow, staff, contact_id)


@router.post(
    "/{contact_id}/portal-links",
    status_code=201,
    response_model=PortalLinkOut,
    summary="Create a short-lived, single-use magic link into the portal for this contact",
)
async def create_portal_link(
    contact_id: str, request: Request, staff: CurrentStaff, uow: UowDep, idempotency_key: IdempotencyHeader = None
) -> dict:
    return await contacts.create_portal_link(uow, staff, contact_id, idempotency(request, staff, idempotency_key, None))


@router.post(
    "/{contact_id}/portal-links/revoke",
    response_model=ContactOut,
    summary="Revoke the contact's magic links: unused links stop working and their portal sessions end",
)
async def revoke_portal_links(contact_id: str, staff: CurrentStaff, uow: UowDep) -> dict:
    return await contacts.revoke_portal_links(uow, staff, contact_id)
