"""The document a contact is asked to sign, and the signed artefacts afterwards, fetched on their behalf."""

from __future__ import annotations

import asyncio
import re
from collections import OrderedDict
from dataclasses import dataclass

from contracts.errors import NotFound
from services.portal.adapters import pdf_text
from services.portal.domain import SessionContext
from services.portal.handlers import second_factor
from services.portal.unit_of_work import UnitOfWork

SEALED_KINDS = ("approval_certificate", "sealed_document")


@dataclass(frozen=True)
class DocumentView:
    pages: list[str]  # text of each page; its length is the page count (0 when the PDF cannot be read)
    available: bool


class ViewCache:
    """What the signing page shows of a document version (page count and texts), kept per tenant, document,
    version and digest: a version never changes, so it is downloaded and parsed once, not on every view.
    Bounded by entries and by the characters held; the least recently used goes first."""

    def __init__(self, max_entries: int, max_chars: int):
        self.max_entries, self.max_chars = max_entries, max_chars
        self.views: OrderedDict[tuple[str, ...], DocumentView] = OrderedDict()
        self.chars = 0

    def get(self, key: tuple[str, ...]) -> DocumentView | None:
        view = self.views.get(key)
        if view is not None:
            self.views.move_to_end(key)
        return view

    def put(self, key: tuple[str, ...], view: DocumentView) -> None:
        size = sum(map(len, view.pages))
        if size > self.max_chars or key in self.views:
            return
        self.views[key], self.chars = view, self.chars + size
        while len(self.views) > self.max_entries or self.chars > self.max_chars:
            _, dropped = self.views.popitem(last=False)
            self.chars -= sum(map(len, dropped.pages))


async def _action(uow: UnitOfWork, ctx: SessionContext, action_id: str) -> dict:
    action = await uow.store.action(ctx.tenant_id, action_id)
    if action is None or action["contact_id"] != ctx.contact_id:
        raise NotFound("There is no such action for you.")
    second_factor.ensure(uow, ctx, action)
    return action


def _version_url(uow: UnitOfWork, action: dict, leaf: str) -> str:
    if action.get("kind") != "sign_document" or not action.get("document_id") or not action.get("document_version_id"):
        raise NotFound("This action has no document.")
    return (
        f"{uow.settings.documents_url.rstrip('/')}/internal/v1/documents/{action['document_id']}/versions/"
        f"{action['document_version_id']}/{leaf}"
    )


async def _fetch(uow: UnitOfWork, url: str, tenant_id: str, scale: int = 1) -> tuple[bytes, str]:
    found = await uow.files.get(url, _with_scale({"tenant_id": tenant_id}, scale))
    if found is None:
        raise NotFound("This file is not available right now.")
    return found


async def pdf(uow: UnitOfWork, ctx: SessionContext, action_id: str) -> tuple[bytes, str]:
    action = await _action(uow, ctx, action_id)
    return await _fetch(uow, _version_url(uow, action, "pdf"), ctx.tenant_id)


async def page(uow: UnitOfWork, ctx: SessionContext, action_id: str, page: int, scale: int = 1) -> tuple[bytes, str]:
    action = await _action(uow, ctx, action_id)
    return await _fetch(uow, _version_url(uow, action, f"pages/{page}.png"), ctx.tenant_id, scale)


async def view(uow: UnitOfWork, ctx: SessionContext, action_id: str) -> DocumentView:
    try:
        action = await _action(uow, ctx, action_id)
    except NotFound:
        return DocumentView(pages=[], available=False)
    # The tenant is part of the key: one tenant's cached text is never another's, even for equal ids.
    key = (
        ctx.tenant_id,
        str(action.get("document_id")),
        str(action.get("document_version_id")),
        str(action.get("document_digest")),
    )
    if (cached := uow.views.get(key)) is not None:
        return cached
    try:
        data, _ = await _fetch(uow, _version_url(uow, action, "pdf"), ctx.tenant_id)
    except NotFound:
        return DocumentView(pages=[], available=False)  # not kept: documents may answer next time
    view = DocumentView(pages=await asyncio.to_thread(pdf_text.pages_text, data), available=True)
    uow.views.put(key, view)
    return view


async def artefact(
    uow: UnitOfWork, ctx: SessionContext, action_id: str, name: str, scale: int = 1
) -> tuple[bytes, str]:
    """A signed artefact of the contact's action, by the name the page links it under (`scale`: images)."""
    action = await _action(uow, ctx, action_id)
    url = (action.get("artefacts") or {}).get(name)
    if not url:
        raise NotFound("This file is not available yet.")
    # URLs from the bus usually name the tenant already; when one does not, say it explicitly.
    params = _with_scale({} if "tenant_id=" in url else {"tenant_id": ctx.tenant_id}, scale)
    found = await uow.files.get(url, params or None)
    if found is None:
        raise NotFound("This file is not available right now.")
    return found


async def signed_page_text(uow: UnitOfWork, ctx: SessionContext, action_id: str) -> str:
    """The text of the signed page shown in the timeline, to read beside its image ("" when unknown)."""
    action = await _action(uow, ctx, action_id)
    page = re.search(r"/pages/(\d+)\.png", (action.get("artefacts") or {}).get("signed_page") or "")
    key = (ctx.tenant_id, action_id, "signed_page")  # a stamped version never changes: read it once
    if (cached := uow.views.get(key)) is not None:
        return cached.pages[0]
    try:
        data, _ = await artefact(uow, ctx, action_id, "signed_document")
    except NotFound:
        return ""
    texts = await asyncio.to_thread(pdf_text.pages_text, data)
    number = int(page.group(1)) if page else len(texts)
    text = texts[number - 1] if 1 <= number <= len(texts) else ""
    uow.views.put(key, DocumentView(pages=[text], available=True))
    return text


def _with_scale(params: dict, scale: int) -> dict:
    # 1x asks exactly as before scales existed.
    return {**params, "scale": scale} if scale != 1 else params
