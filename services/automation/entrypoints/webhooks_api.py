"""Webhook endpoints for staff: subscribe an HTTPS URL to event types; see its deliveries."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request, Response

from contracts.errors import Forbidden
from services.automation.delivery import Webhooks
from services.automation.entrypoints.schemas import Deliveries, EndpointList, RegisteredEndpoint
from services.automation.webhooks import EndpointSpec
from services.runtime.staff_auth import CurrentStaff


def get_webhooks(request: Request) -> Webhooks:
    return request.app.state.service.uow.webhooks


WebhooksDep = Annotated[Webhooks, Depends(get_webhooks)]


def _admin_only(who) -> None:
    # An endpoint receives the tenant's events, evidence included: only admins choose where they go.
    if not who.is_admin:
        raise Forbidden("only an admin key may add or remove webhook endpoints")


router = APIRouter(prefix="/v1/webhooks", tags=["webhooks"])


@router.post("", status_code=201, summary="Register an endpoint (the signing secret is shown once)")
async def register_endpoint(spec: EndpointSpec, who: CurrentStaff, webhooks: WebhooksDep) -> RegisteredEndpoint:
    _admin_only(who)
    return RegisteredEndpoint(**await webhooks.register(who.tenant_id, spec))


@router.get("", summary="The tenant's webhook endpoints")
async def list_endpoints(who: CurrentStaff, webhooks: WebhooksDep) -> EndpointList:
    return EndpointList(endpoints=await webhooks.list(who.tenant_id))


@router.delete("/{endpoint_id}", status_code=204, summary="Remove an endpoint (pending deliveries fail)")
async def remove_endpoint(endpoint_id: str, who: CurrentStaff, webhooks: WebhooksDep) -> Response:
    _admin_only(who)
    await webhooks.remove(who.tenant_id, endpoint_id)
    return Response(status_code=204)


@router.get("/{endpoint_id}/deliveries", summary="An endpoint's deliveries, newest first, with their attempts")
async def deliveries(
    endpoint_id: str, who: CurrentStaff, webhooks: WebhooksDep, limit: Annotated[int, Query(ge=1, le=200)] = 50
) -> Deliveries:
    return Deliveries(deliveries=await webhooks.deliveries(who.tenant_id, endpoint_id, limit))
