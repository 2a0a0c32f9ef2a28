"""Server-to-server reads for the portal and the timeline, scoped by the tenant they name."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response

from services.documents import handlers
from services.documents.entrypoints.api import DocumentOut, Scale, pdf_response, png_response
from services.documents.entrypoints.deps import UowDep
from services.runtime.staff_auth import InternalCaller

router = APIRouter(prefix="/internal/v1/documents", tags=["internal"], dependencies=[InternalCaller])
TenantId = Annotated[str, Query(min_length=1)]


@router.get(
    "/{document_id}",
    response_model=DocumentOut,
    summary="A document with its versions (pages, digests, tags), for another Akkoord service",
)
async def document(document_id: str, tenant_id: TenantId, uow: UowDep) -> DocumentOut:
    document, versions = await handlers.document_with_versions(uow, tenant_id, document_id)
    return DocumentOut.of(document, versions)


@router.get(
    "/{document_id}/versions/{version_id}/pdf",
    response_class=Response,
    summary="One version's PDF, for another Akkoord service",
)
async def version_pdf(document_id: str, version_id: str, tenant_id: TenantId, uow: UowDep) -> Response:
    version, data = await handlers.pdf(uow, tenant_id, document_id, version_id)
    return pdf_response(version, data)


@router.get(
    "/{document_id}/versions/{version_id}/pages/{page}.png",
    response_class=Response,
    summary="A PNG preview of one page (1-based), for another Akkoord service",
)
async def version_page(
    document_id: str, version_id: str, page: int, tenant_id: TenantId, uow: UowDep, scale: Scale = 1
) -> Response:
    return png_response(await handlers.page_png(uow, tenant_id, document_id, version_id, page, scale))
