"""Files the pages link to (PDFs, page renderings), opened with the session: the console fetches them from
the owning service's staff API for the user's tenant, so no internal URL or API key reaches the browser."""

from __future__ import annotations

import re

from fastapi import APIRouter
from fastapi.responses import Response

from contracts.errors import NotFound
from services.tasks.entrypoints.console.deps import PREFIX, ConsoleDep, SignedIn
from services.tasks.handlers import branding

router = APIRouter(prefix=PREFIX, include_in_schema=False)
ID = r"[A-Za-z0-9_-]{1,100}"
ALLOWED = {
    "documents": re.compile(rf"^/v1/documents/{ID}/versions/{ID}/(pdf|pages/\d{{1,5}}\.png)$"),
    "signing": re.compile(rf"^/v1/sealed-pdfs/{ID}$"),
}
PASSED_HEADERS = ("content-type", "content-disposition", "etag")


@router.get("/files/{service}/{path:path}")
async def staff_file(service: str, path: str, console: ConsoleDep, viewer: SignedIn) -> Response:
    path = "/" + path
    pattern = ALLOWED.get(service)
    if pattern is None or not pattern.match(path):
        raise NotFound("no such file")
    upstream = await console.services.request(viewer.staff, "GET", service, path)  # type: ignore[arg-type]
    headers = {k: v for k, v in upstream.headers.items() if k.lower() in PASSED_HEADERS}
    headers["Cache-Control"] = "private, max-age=300"
    headers["X-Content-Type-Options"] = "nosniff"
    return Response(upstream.content, status_code=200, headers=headers)


@router.get("/brand/{tenant_id}/logo")
async def tenant_logo(tenant_id: str, console: ConsoleDep) -> Response:
    """The tenant's logo, public: the portal and customers' mails show it."""
    data, media_type, digest = await branding.tenant_logo(console.uow, tenant_id)
    return Response(
        data,
        media_type=media_type,
        headers={"ETag": f'"{digest}"', "Cache-Control": "public, max-age=300", "X-Content-Type-Options": "nosniff"},
    )
