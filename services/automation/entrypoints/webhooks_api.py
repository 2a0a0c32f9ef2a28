"""Webhook endpoints for staff: subscribe an HTTPS URL to event types; see its deliveries."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response

from contracts.errors import Forbidden
from services.automation import webhook_handlers
from services.automation.entrypoints.api import UowDep
from services.automation.entrypoints.schemas import Deliveries, EndpointList, RegisteredEndpoint
from services.automation.webhooks import EndpointSpec
from services.runtime.staff_auth import CurrentStaff


def _admin_only(who) -> None:
    # An endpoint receives the tenant's events, evidence included: only admins choose where they go.
    if not who.is_admin:
        raise Forbidden("only an admin key may add or remove webhook endpoints")


router = APIRouter(prefix="/v1/webhooks", tags=["webhooks"])


@router.post("", status_code=201, summary="Register an endpoint (the signing secret is shown once)")
async def register_endpoint(spec: EndpointSpec, who: CurrentStaff, uow: UowDep) -> RegisteredEndpoint:
    _admin_only(who)
    return RegisteredEndpoint(**await webhook_handlers.register_endpoint(uow, who.tenant_id, spec))


@router.get("", summary="The tenant's webhook endpoints")
async def list_endpoints(who: CurrentStaff, uow: UowDep) -> EndpointList:
    return EndpointList(endpoints=await webhook_handlers.list_endpoints(uow, who.tenant_id))


@router.delete("/{endpoint_id}", status_code=204, summary="Remove an endpoint (pending deliveries fail)")
async def remove_endpoint(endpoint_id: str, who: CurrentStaff, uow: UowDep) -> Response:
    _admin_only(who)
    await webhook_handlers.remove_endpoint(uow, who.tenant_id, endpoint_id)
    return Response(status_code=204)


@router.get("/{endpoint_id}/deliveries", summary="An endpoint's deliveries, newest first, with their attempts")
async def deliveries(
    endpoint_id: str, who: CurrentStaff, uow: UowDep, limit: Annotated[int, Query(ge=1, le=200)] = 50
) -> Deliveries:
    return Deliveries(deliveries=await webhook_handlers.deliveries_of(uow, who.tenant_id, endpoint_id, limit))
