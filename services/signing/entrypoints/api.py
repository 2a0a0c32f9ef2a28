"""Staff routes: evidence records and sealed PDFs of the staff member's tenant."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response

from contracts.errors import NotFound
from services.runtime.staff_auth import CurrentStaff
from services.signing.adapters.mongo import SealedPdf
from services.signing.domain import EvidenceRecord
from services.signing.entrypoints.deps import UowDep
from services.signing.unit_of_work import UnitOfWork

router = APIRouter(prefix="/v1", tags=["evidence"])


async def _evidence_out(uow: UnitOfWork, evidence: EvidenceRecord) -> dict:
    seals = await uow.store.seals_of(evidence.tenant_id, evidence.evidence_id)
    body = evidence.model_dump(mode="json", exclude={"tenant_id"})
    body["id"] = body.pop("evidence_id")
    body["seals"] = [
        {
            "pdf_id": s.pdf_id,
            "kind": s.kind,
            "digest": s.digest,
            "size": s.size,
            "created_at": s.created_at.isoformat(),
            "url": f"/v1/sealed-pdfs/{s.pdf_id}",
        }
        for s in seals
    ]
    body["anchored"] = evidence.timeline_anchor is not None
    if seals and evidence.timeline_anchor is None:
        body["anchor_note"] = (
            "Sealed without a timeline anchor: the task's timeline could not be read when the "
            "seal was made, so the timeline's verify cannot compare this signing with it."
        )
    return body


@router.get("/evidence", summary="Evidence records of signings, newest first, optionally of one task")
async def list_evidence(
    staff: CurrentStaff, uow: UowDep, task_id: str | None = None, limit: Annotated[int, Query(ge=1, le=200)] = 50
) -> dict:
    records = await uow.store.for_task(staff.tenant_id, task_id, limit)
    return {"evidence": [await _evidence_out(uow, r) for r in records]}


@router.get("/evidence/{evidence_id}", summary="One evidence record with its sealed PDFs")
async def get_evidence(evidence_id: str, staff: CurrentStaff, uow: UowDep) -> dict:
    evidence = await uow.store.get(staff.tenant_id, evidence_id)
    if evidence is None:
        raise NotFound(f"No evidence record {evidence_id}.")
    return await _evidence_out(uow, evidence)


@router.get(
    "/sealed-pdfs/{pdf_id}",
    response_class=Response,
    summary="Download a sealed PDF (approval certificate or signed document)",
)
async def download_sealed(pdf_id: str, staff: CurrentStaff, uow: UowDep) -> Response:
    return await sealed_pdf_response(uow, staff.tenant_id, pdf_id)


async def sealed_pdf_response(uow: UnitOfWork, tenant_id: str, pdf_id: str) -> Response:
    sealed: SealedPdf | None = await uow.store.sealed_pdf(tenant_id, pdf_id)
    data = await uow.store.get_file(pdf_id) if sealed else None
    if sealed is None or data is None:
        raise NotFound(f"No sealed PDF {pdf_id}.")
    name = "approval-certificate" if sealed.kind == "approval_certificate" else "signed-document"
    return Response(
        data,
        media_type="application/pdf",
        headers={
            "Content-Disposition": f'attachment; filename="{name}-{sealed.action_id}.pdf"',
            "ETag": f'"{sealed.digest}"',
        },
    )
