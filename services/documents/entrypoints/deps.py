"""Named dependencies for the routes: the unit of work, and an upload read within the size limit."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends, HTTPException, Request
from starlette.datastructures import UploadFile

from contracts.errors import Invalid
from services.documents.unit_of_work import UnitOfWork
from services.runtime.staff_auth import CurrentStaff, Staff

CHUNK = 1024 * 1024
TITLE_MAX = 300


def get_uow(request: Request) -> UnitOfWork:
    return request.app.state.service.uow


UowDep = Annotated[UnitOfWork, Depends(get_uow)]


@dataclass(frozen=True)
class Upload:
    staff: Staff
    data: bytes
    title: str | None


async def staff_upload(request: Request, staff: CurrentStaff) -> Upload:
    """The staff member first, then the form: an upload without valid credentials is refused before its
    bytes are read (a route with File/Form parameters would have FastAPI read the body before any
    dependency). The body as a whole is capped by the runtime's body limit."""
    form = await request.form(max_files=1, max_fields=2, max_part_size=64 * 1024)
    file = form.get("file")
    if not isinstance(file, UploadFile):
        raise Invalid("file: a PDF file is required.", errors=[{"field": "file", "message": "required"}])
    data = await _read_within(file, get_uow(request).settings.max_upload_bytes)
    title = form.get("title")
    return Upload(staff, data, title if isinstance(title, str) else None)


StaffUpload = Annotated[Upload, Depends(staff_upload)]


def upload_body(*, with_title: bool) -> dict[str, Any]:
    """The multipart request body for OpenAPI (the form is parsed in `staff_upload`, not by FastAPI)."""
    properties: dict[str, Any] = {"file": {"type": "string", "format": "binary"}}
    if with_title:
        properties["title"] = {"type": "string", "minLength": 1, "maxLength": TITLE_MAX}
    schema = {"type": "object", "properties": properties, "required": sorted(properties)}
    return {"requestBody": {"required": True, "content": {"multipart/form-data": {"schema": schema}}}}


def title_of(upload: Upload) -> str:
    title = (upload.title or "").strip()
    if not 1 <= len(title) <= TITLE_MAX:
        message = f"a title of 1 to {TITLE_MAX} characters is required"
        raise Invalid(f"title: {message}.", errors=[{"field": "title", "message": message}])
    return title


async def _read_within(file: UploadFile, limit: int) -> bytes:
    too_large = HTTPException(413, f"The file is larger than the limit of {limit // (1024 * 1024)} MB.")
    parts, size = [], 0
    while chunk := await file.read(CHUNK):
        size += len(chunk)
        if size > limit:
            raise too_large
        parts.append(chunk)
    if size == 0:
        raise Invalid("The uploaded file is empty.")
    return b"".join(parts)
