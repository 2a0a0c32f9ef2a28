"""Rules API for staff: rules are data, per tenant; every run is visible."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request, Response

from services.automation import handlers
from services.automation.domain import Rule, RuleSpec
from services.automation.entrypoints.schemas import RuleList, RuleRuns
from services.automation.unit_of_work import UnitOfWork
from services.runtime.staff_auth import CurrentStaff


def get_uow(request: Request) -> UnitOfWork:
    return request.app.state.service.uow


UowDep = Annotated[UnitOfWork, Depends(get_uow)]
Limit = Annotated[int, Query(ge=1, le=200)]

router = APIRouter(tags=["rules"])


@router.post("/v1/rules", status_code=201, summary="Create a rule")
async def create_rule(spec: RuleSpec, who: CurrentStaff, uow: UowDep) -> Rule:
    return await handlers.create_rule(uow, who.tenant_id, spec)


@router.get("/v1/rules", summary="The tenant's rules")
async def list_rules(who: CurrentStaff, uow: UowDep) -> RuleList:
    return RuleList(rules=await uow.store.rules_of(who.tenant_id))


@router.get("/v1/rules/{rule_id}", summary="One rule")
async def get_rule(rule_id: str, who: CurrentStaff, uow: UowDep) -> Rule:
    return await handlers.get_rule(uow, who.tenant_id, rule_id)


@router.put("/v1/rules/{rule_id}", summary="Replace a rule")
async def replace_rule(rule_id: str, spec: RuleSpec, who: CurrentStaff, uow: UowDep) -> Rule:
    return await handlers.replace_rule(uow, who.tenant_id, rule_id, spec)


@router.post("/v1/rules/{rule_id}/enable", summary="Enable a rule")
async def enable_rule(rule_id: str, who: CurrentStaff, uow: UowDep) -> Rule:
    return await handlers.set_rule_enabled(uow, who.tenant_id, rule_id, True)


@router.post("/v1/rules/{rule_id}/disable", summary="Disable a rule (it stops running, its runs stay)")
async def disable_rule(rule_id: str, who: CurrentStaff, uow: UowDep) -> Rule:
    return await handlers.set_rule_enabled(uow, who.tenant_id, rule_id, False)


@router.delete("/v1/rules/{rule_id}", status_code=204, summary="Delete a rule")
async def delete_rule(rule_id: str, who: CurrentStaff, uow: UowDep) -> Response:
    await handlers.delete_rule(uow, who.tenant_id, rule_id)
    return Response(status_code=204)


@router.get("/v1/rules/{rule_id}/runs", summary="A rule's runs, newest first, matched or not and why")
async def rule_runs(rule_id: str, who: CurrentStaff, uow: UowDep, limit: Limit = 50) -> RuleRuns:
    return RuleRuns(runs=await handlers.runs_of_rule(uow, who.tenant_id, rule_id, limit))


@router.get("/v1/rule-runs", summary="Rule runs of the tenant, optionally for one task, newest first")
async def all_rule_runs(who: CurrentStaff, uow: UowDep, task_id: str | None = None, limit: Limit = 50) -> RuleRuns:
    return RuleRuns(runs=await uow.store.runs_of(who.tenant_id, task_id=task_id, limit=limit))
