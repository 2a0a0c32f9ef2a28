"""Server-to-server reads for the portal and the timeline, scoped by the tenant they name."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response

from services.runtime.staff_auth import InternalCaller
from services.signing import handlers
from services.signing.entrypoints.api import sealed_pdf_response
from services.signing.entrypoints.deps import UowDep

router = APIRouter(prefix="/internal/v1", tags=["internal"], dependencies=[InternalCaller])


@router.get(
    "/tasks/{task_id}/anchors",
    summary="The timeline heads the seals of a task's signings anchored (or none), for timeline's verify",
)
async def anchors(task_id: str, tenant_id: Annotated[str, Query(min_length=1)], uow: UowDep) -> dict:
    return {"task_id": task_id, "anchors": await handlers.anchors_of(uow, tenant_id, task_id)}


@router.get("/sealed-pdfs/{pdf_id}", response_class=Response, summary="A sealed PDF, for another Akkoord service")
async def sealed_pdf(pdf_id: str, tenant_id: Annotated[str, Query(min_length=1)], uow: UowDep) -> Response:
    return await sealed_pdf_response(uow, tenant_id, pdf_id)
