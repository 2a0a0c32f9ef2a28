"""Verify page: anyone can upload a signed PDF and see whether Akkoord's seal on it is valid."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response
from starlette.datastructures import UploadFile  # what request.form() yields

from services.portal import i18n
from services.portal.entrypoints.deps import ClientDep, OptionalSessionDep, PortalDep, limit
from services.portal.entrypoints.rendering import preferred_language, render, switch_link

router = APIRouter(include_in_schema=False)


# The signing service reports in English; the page says it in the reader's language (prefix -> msgid).
PROBLEMS = (
    ("the PDF carries no signature", "verify_problem_unsigned"),
    ("the PDF was changed after it was sealed", "verify_problem_changed"),
    ("content was added to the PDF after it was sealed", "verify_problem_added"),
    ("not a readable PDF", "verify_problem_unreadable"),
    ("the PDF's signatures cannot be read", "verify_problem_unreadable"),
    ("the signature cannot be validated", "verify_problem_invalid"),
)


def problem_text(problem: str, t: dict[str, str]) -> str:
    return next((t[key] for prefix, key in PROBLEMS if problem.startswith(prefix)), t["verify_problem_other"])


def _page(request: Request, lang: str, ctx, status: int = 200, **values) -> Response:
    switch = None if ctx else switch_link(request, lang)
    return render("verify.html", lang, status, ctx, here="/verify", switch_to=switch, **values)


@router.get("/verify", summary="Upload a signed PDF to check its seal")
async def verify_page(request: Request, ctx: OptionalSessionDep) -> Response:
    lang = ctx.language if ctx else preferred_language(request)
    return _page(request, lang, ctx, result=None)


@router.post("/verify", summary="Check the uploaded PDF's seal")
async def verify_submit(request: Request, portal: PortalDep, ctx: OptionalSessionDep, client: ClientDep) -> Response:
    lang = ctx.language if ctx else preferred_language(request)
    limit(portal.signing_limiter, f"verify:{client.ip}")
    form = await request.form(max_files=1, max_fields=5)
    upload = form.get("file")
    most = portal.settings.max_verify_upload_bytes
    data = await upload.read(most + 1) if isinstance(upload, UploadFile) else b""
    t = i18n.messages(lang)
    if not isinstance(upload, UploadFile) or not data or len(data) > most or not data.startswith(b"%PDF"):
        return _page(request, lang, ctx, 422, result=None, error=t["verify_not_pdf"])
    result = await portal.verifier.verify(upload.filename or "document.pdf", data)
    if result is None:
        return _page(request, lang, ctx, 503, result=None, error=t["verify_unavailable"])
    if result.get("problem"):
        result = {**result, "problem": problem_text(result["problem"], t)}
    return _page(request, lang, ctx, result=result)
