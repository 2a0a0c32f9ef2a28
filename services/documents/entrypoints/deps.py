"""Named dependencies for the routes: the handlers, and an upload read within the size limit."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, HTTPException, Request, UploadFile

from contracts.errors import Invalid
from services.documents.handlers import DocumentHandlers

CHUNK = 1024 * 1024


def get_handlers(request: Request) -> DocumentHandlers:
    return request.app.state.documents


Handlers = Annotated[DocumentHandlers, Depends(get_handlers)]


async def read_upload(request: Request, file: UploadFile) -> bytes:
    """The uploaded bytes; past the configured limit a clear 413, an empty file a 422."""
    limit = request.app.state.documents.settings.max_upload_bytes
    too_large = HTTPException(413, f"The file is larger than the limit of {limit // (1024 * 1024)} MB.")
    if int(request.headers.get("content-length") or 0) > limit + 64 * 1024:
        raise too_large
    parts, size = [], 0
    while chunk := await file.read(CHUNK):
        size += len(chunk)
        if size > limit:
            raise too_large
        parts.append(chunk)
    if size == 0:
        raise Invalid("The uploaded file is empty.")
    return b"".join(parts)
