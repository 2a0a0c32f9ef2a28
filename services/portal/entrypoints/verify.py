"""Verify page: anyone can upload a signed PDF and see whether Akkoord's seal on it is valid."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response
from starlette.datastructures import UploadFile  # what request.form() yields

from services.portal import i18n
from services.portal.entrypoints.deps import ClientDep, OptionalSessionDep, PortalDep, limit
from services.portal.entrypoints.rendering import preferred_language, render

router = APIRouter(include_in_schema=False)


@router.get("/verify", summary="Upload a signed PDF to check its seal")
async def verify_page(request: Request, ctx: OptionalSessionDep) -> Response:
    lang = ctx.language if ctx else preferred_language(request)
    return render("verify.html", lang, ctx=ctx, result=None, here="/verify")


@router.post("/verify", summary="Check the uploaded PDF's seal")
async def verify_submit(request: Request, portal: PortalDep, ctx: OptionalSessionDep, client: ClientDep) -> Response:
    lang = ctx.language if ctx else preferred_language(request)
    limit(portal.signing_limiter, f"verify:{client.ip}")
    form = await request.form(max_files=1, max_fields=5)
    upload = form.get("file")
    most = portal.settings.max_verify_upload_bytes
    data = await upload.read(most + 1) if isinstance(upload, UploadFile) else b""
    t = i18n.messages(lang)
    if not data or len(data) > most or not data.startswith(b"%PDF"):
        return render("verify.html", lang, 422, ctx, result=None, error=t["verify_not_pdf"], here="/verify")
    result = await portal.verifier.verify(upload.filename or "document.pdf", data)
    if result is None:
        return render("verify.html", lang, 503, ctx, result=None, error=t["verify_unavailable"], here="/verify")
    return render("verify.html", lang, ctx=ctx, result=result, here="/verify")
