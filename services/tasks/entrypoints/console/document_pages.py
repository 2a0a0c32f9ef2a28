"""Documents: upload, a new version, placeholders per page, previews; withdrawn approvals show."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from starlette.datastructures import UploadFile

from contracts.errors import DomainError, Invalid, NotFound
from services.tasks.entrypoints.console.deps import PREFIX, Console, ConsoleDep, FormSignedIn, SignedIn, Viewer
from services.tasks.entrypoints.console.render import catalogue, render
from services.tasks.entrypoints.console.task_view import documents_of

router = APIRouter(prefix=PREFIX, include_in_schema=False)


async def _pdf(form, lang: str, limit: int) -> tuple[str, bytes]:
    upload = form.get("file")
    if not isinstance(upload, UploadFile) or not upload.filename:
        raise Invalid(catalogue(lang)["choose_pdf"])
    data = await upload.read(limit + 1)
    if len(data) > limit:
        raise Invalid(catalogue(lang)["pdf_too_large"])
    return upload.filename, data


@router.get("/documents")
async def document_list(request: Request, console: ConsoleDep, viewer: SignedIn) -> Response:
    return await _list(request, console, viewer)


async def _list(
    request: Request, console: Console, viewer: Viewer, *, error: str | None = None, status: int = 200, title: str = ""
) -> Response:
    return render(
        request,
        "documents.html",
        language=viewer.lang,
        viewer=viewer,
        status=status,
        error=error,
        documents=await documents_of(console, viewer),
        title=title,
    )


@router.post("/documents")
async def upload_document(request: Request, console: ConsoleDep, viewer: FormSignedIn) -> Response:
    form = await request.form()
    title = str(form.get("title", "")).strip()[:300]
    try:
        if not title:
            raise Invalid(catalogue(viewer.lang)["title_required"])
        name, data = await _pdf(form, viewer.lang, console.settings.console_max_upload_bytes)
        created = await console.services.json(
            viewer.staff,
            "POST",
            "documents",
            "/v1/documents",
            data={"title": title},
            files={"file": (name, data, "application/pdf")},
        )
    except DomainError as exc:
        return await _list(request, console, viewer, error=exc.detail, status=exc.status, title=title)
    return RedirectResponse(f"{PREFIX}/documents/{created['id']}?done=uploaded", status_code=303)


async def _detail(
    request: Request, console: Console, viewer: Viewer, document_id: str, *, error: str | None = None, status: int = 200
) -> Response:
    document = await console.services.json(viewer.staff, "GET", "documents", f"/v1/documents/{document_id}")
    versions = sorted(document.get("versions") or [], key=lambda v: v["version"], reverse=True)
    uploads = [v for v in versions if v["source"] == "upload"]
    current = next((v for v in versions if v["id"] == document["latest_version_id"]), uploads[0] if uploads else None)
    return render(
        request,
        "document.html",
        language=viewer.lang,
        viewer=viewer,
        document=document,
        versions=versions,
        current=current,
        error=error,
        status=status,
        done=request.query_params.get("done"),
    )


@router.get("/documents/{document_id}")
async def document_page(request: Request, console: ConsoleDep, viewer: SignedIn, document_id: str) -> Response:
    return await _detail(request, console, viewer, document_id)


@router.post("/documents/{document_id}/versions")
async def upload_version(request: Request, console: ConsoleDep, viewer: FormSignedIn, document_id: str) -> Response:
    form = await request.form()
    try:
        name, data = await _pdf(form, viewer.lang, console.settings.console_max_upload_bytes)
        await console.services.json(
            viewer.staff,
            "POST",
            "documents",
            f"/v1/documents/{document_id}/versions",
            files={"file": (name, data, "application/pdf")},
        )
    except DomainError as exc:
        if isinstance(exc, NotFound):
            raise
        return await _detail(request, console, viewer, document_id, error=exc.detail, status=exc.status)
    return RedirectResponse(f"{PREFIX}/documents/{document_id}?done=version", status_code=303)
