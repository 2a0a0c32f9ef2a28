"""Public routes: anyone can check a PDF's seal, and fetch the certificate it should be sealed with."""

from __future__ import annotations

from fastapi import APIRouter, HTTPException, Response

from services.signing import handlers
from services.signing.adapters.verify_pool import VerifyBusy, VerifyTimedOut
from services.signing.entrypoints.deps import UowDep
from services.signing.entrypoints.verify_guard import PDF_FORM, BoundedPdf, RateLimited

router = APIRouter(prefix="/v1", tags=["verification"])


@router.post(
    "/verify",
    summary="Check whether a PDF carries Akkoord's seal, untouched, over the whole file",
    dependencies=[RateLimited],
    openapi_extra=PDF_FORM,
    responses={
        413: {"description": "The file is past the limit"},
        429: {"description": "Too many"},
        503: {"description": "Too many checks at once"},
        504: {"description": "Took too long"},
    },
)
async def verify(data: BoundedPdf, uow: UowDep) -> dict:
    try:
        check, stored = await handlers.verify(uow, data)
    except VerifyBusy:
        raise HTTPException(
            503, "Too many verifications are running; try again in a moment.", headers={"Retry-After": "5"}
        ) from None
    except VerifyTimedOut:
        raise HTTPException(
            504, f"Checking this PDF took longer than {uow.settings.verify_timeout_seconds:g} s and was stopped."
        ) from None
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
async def seal_certificate(uow: UowDep) -> Response:
    return Response(uow.keys.key.cert_pem, media_type="application/x-pem-file")
