"""Files the signed-in contact may open: the document to sign (PDF, page previews) and the signed artefacts."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Path, Query, Response

from services.portal.entrypoints.deps import PortalDep, SessionDep
from services.portal.handlers import documents

router = APIRouter(prefix="/actions/{action_id}", tags=["portal files"])
# Page images at 1x, 2x (the srcset of high-density screens) or 3x (opened full size to zoom).
Scale = Annotated[int, Query(ge=1, le=3)]


def _file(found: tuple[bytes, str], filename: str | None = None) -> Response:
    data, media_type = found
    headers = {"Cache-Control": "private, max-age=300"}
    if filename:
        headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    return Response(data, media_type=media_type, headers=headers)


@router.get("/document.pdf", summary="The document version the contact is asked to sign", response_class=Response)
async def document_pdf(action_id: str, ctx: SessionDep, portal: PortalDep) -> Response:
    return _file(await documents.pdf(portal, ctx, action_id), "document.pdf")


@router.get("/document/pages/{page}.png", summary="A preview of one page of that version", response_class=Response)
async def document_page(
    action_id: str, ctx: SessionDep, portal: PortalDep, page: int = Path(ge=1, le=500), scale: Scale = 1
) -> Response:
    return _file(await documents.page(portal, ctx, action_id, page, scale))


@router.get("/signed-page.png", summary="The signed page of the stamped document", response_class=Response)
async def signed_page(action_id: str, ctx: SessionDep, portal: PortalDep, scale: Scale = 1) -> Response:
    return _file(await documents.artefact(portal, ctx, action_id, "signed_page", scale))


@router.get("/signed-document.pdf", summary="The stamped document", response_class=Response)
async def signed_document(action_id: str, ctx: SessionDep, portal: PortalDep) -> Response:
    return _file(await documents.artefact(portal, ctx, action_id, "signed_document"), "signed-document.pdf")


@router.get(
    "/sealed/{kind}.pdf", summary="The sealed PDF: approval certificate or signed document", response_class=Response
)
async def sealed(
    action_id: str, kind: Literal["approval_certificate", "sealed_document"], ctx: SessionDep, portal: PortalDep
) -> Response:
    return _file(await documents.artefact(portal, ctx, action_id, kind), f"{kind.replace('_', '-')}.pdf")
