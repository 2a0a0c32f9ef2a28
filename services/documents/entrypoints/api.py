"""Staff routes: upload documents and versions, list them, download a version or a page preview."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Query, Response
from pydantic import BaseModel

from contracts import Actor
from contracts.messages import Placeholder
from services.documents import handlers
from services.documents.domain import Document, Version
from services.documents.entrypoints.deps import StaffUpload, UowDep, title_of, upload_body
from services.runtime.staff_auth import CurrentStaff

# Previews at 1x (72 dpi), 2x for high-density screens, 3x to zoom; no more, so a page stays a few megabytes.
Scale = Annotated[int, Query(ge=1, le=3, description="Render at this multiple of 72 dpi (1 to 3).")]

router = APIRouter(prefix="/v1/documents", tags=["documents"])


class VersionOut(BaseModel):
    id: str
    version: int
    digest: str
    size: int
    pages: int
    source: str
    placeholders: list[Placeholder]
    stamped_from: str | None = None
    action_id: str | None = None
    withdrawn_at: datetime | None = None
    created_at: datetime

    @classmethod
    def of(cls, v: Version) -> VersionOut:
        return cls(
            id=v.version_id,
            **v.model_dump(exclude={"version_id", "document_id", "tenant_id", "signed_event_id", "task_id"}),
        )


class DocumentOut(BaseModel):
    id: str
    title: str
    latest_version_id: str
    version_count: int
    created_at: datetime
    updated_at: datetime
    versions: list[VersionOut] | None = None

    @classmethod
    def of(cls, d: Document, versions: list[Version] | None = None) -> DocumentOut:
        return cls(
            id=d.document_id,
            **d.model_dump(exclude={"document_id", "tenant_id"}),
            versions=[VersionOut.of(v) for v in versions] if versions is not None else None,
        )


class DocumentList(BaseModel):
    documents: list[DocumentOut]
    next_cursor: str | None


def _actor(staff) -> Actor:
    return staff.actor()


@router.post(
    "",
    status_code=201,
    response_model=DocumentOut,
    summary="Upload a PDF as a new document",
    openapi_extra=upload_body(with_title=True),
)
async def upload_document(upload: StaffUpload, uow: UowDep) -> DocumentOut:
    document, version = await handlers.upload_document(
        uow, upload.staff.tenant_id, _actor(upload.staff), title_of(upload), upload.data
    )
    return DocumentOut.of(document, [version])


@router.post(
    "/{document_id}/versions",
    status_code=201,
    response_model=VersionOut,
    summary="Upload a new immutable version of a document",
    openapi_extra=upload_body(with_title=False),
)
async def add_version(document_id: str, upload: StaffUpload, uow: UowDep) -> VersionOut:
    staff = upload.staff
    return VersionOut.of(await handlers.add_version(uow, staff.tenant_id, _actor(staff), document_id, upload.data))


@router.get("", response_model=DocumentList, summary="The tenant's documents, most recently changed first")
async def list_documents(
    staff: CurrentStaff, uow: UowDep, limit: Annotated[int, Query(ge=1, le=200)] = 50, cursor: datetime | None = None
) -> DocumentList:
    documents = await uow.store.list_documents(staff.tenant_id, limit, cursor)
    next_cursor = documents[-1].updated_at.isoformat() if len(documents) == limit else None
    return DocumentList(documents=[DocumentOut.of(d) for d in documents], next_cursor=next_cursor)


@router.get("/{document_id}", response_model=DocumentOut, summary="A document with all its versions")
async def get_document(document_id: str, staff: CurrentStaff, uow: UowDep) -> DocumentOut:
    document, versions = await handlers.document_with_versions(uow, staff.tenant_id, document_id)
    return DocumentOut.of(document, versions)


@router.get("/{document_id}/versions/{version_id}/pdf", response_class=Response, summary="Download one version's PDF")
async def download_version(document_id: str, version_id: str, staff: CurrentStaff, uow: UowDep) -> Response:
    version, data = await handlers.pdf(uow, staff.tenant_id, document_id, version_id)
    return pdf_response(version, data)


@router.get(
    "/{document_id}/versions/{version_id}/pages/{page}.png",
    response_class=Response,
    summary="A PNG preview of one page (1-based)",
)
async def page_preview(
    document_id: str, version_id: str, page: int, staff: CurrentStaff, uow: UowDep, scale: Scale = 1
) -> Response:
    return png_response(await handlers.page_png(uow, staff.tenant_id, document_id, version_id, page, scale))


def pdf_response(version: Version, data: bytes) -> Response:
    return Response(
        data,
        media_type="application/pdf",
        headers={
            "Content-Disposition": f'inline; filename="{version.document_id}-v{version.version}.pdf"',
            "ETag": f'"{version.digest}"',
            "Cache-Control": "private, max-age=31536000, immutable",
        },
    )


def png_response(png: bytes) -> Response:
    return Response(png, media_type="image/png", headers={"Cache-Control": "private, max-age=31536000, immutable"})
