"""Public routes: anyone can check a PDF's seal, and fetch the certificate it should be sealed with."""

from __future__ import annotations

from fastapi import APIRouter, HTTPException, Request, Response, UploadFile

from contracts.errors import Invalid
from services.signing.entrypoints.deps import Handlers

router = APIRouter(prefix="/v1", tags=["verification"])


@router.post("/verify", summary="Check whether a PDF carries Akkoord's seal, untouched, over the whole file")
async def verify(request: Request, file: UploadFile, handlers: Handlers) -> dict:
    limit = handlers.settings.max_verify_bytes
    data = await file.read(limit + 1)
    if len(data) > limit:
        raise HTTPException(413, f"The file is larger than the limit of {limit // (1024 * 1024)} MB.")
    if not data:
        raise Invalid("The uploaded file is empty.")
    check, stored = await handlers.verify(data)
    verdict = check.akkoord_seal and check.valid and check.covers_whole_file
    return {
        "verified": verdict,
        "sealed": check.sealed,
        "akkoord_seal": check.akkoord_seal,
        "intact": check.intact,
        "covers_whole_file": check.covers_whole_file,
        "evidence_id": check.evidence_id,
        "sealed_at": check.signed_at,
        "sealed_by": check.signer,
        "timestamped_at": check.timestamped_at,
        "timestamped_by": check.timestamped_by,
        "signatures": check.signatures,
        # The exact bytes Akkoord stored when it sealed (a re-saved copy can still be intact but differ).
        "matches_stored": stored is not None and stored.evidence_id == check.evidence_id,
        "kind": stored.kind if stored else None,
        "problem": check.problem,
    }


@router.get("/seal-certificate", response_class=Response, summary="The certificate Akkoord seals with (PEM)")
async def seal_certificate(handlers: Handlers) -> Response:
    return Response(handlers.keys.key.cert_pem, media_type="application/x-pem-file")
