"""Rules API for staff: rules are data, per tenant; every run is visible."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request, Response

from services.automation.domain import Rule, RuleSpec
from services.automation.entrypoints.schemas import RuleList, RuleRuns
from services.automation.handlers import Rules
from services.runtime.staff_auth import CurrentStaff


def get_rules(request: Request) -> Rules:
    return request.app.state.rules


RulesDep = Annotated[Rules, Depends(get_rules)]
Limit = Annotated[int, Query(ge=1, le=200)]

router = APIRouter(tags=["rules"])


@router.post("/v1/rules", status_code=201, summary="Create a rule")
async def create_rule(spec: RuleSpec, who: CurrentStaff, rules: RulesDep) -> Rule:
    return await rules.create(who.tenant_id, spec)


@router.get("/v1/rules", summary="The tenant's rules")
async def list_rules(who: CurrentStaff, rules: RulesDep) -> RuleList:
    return RuleList(rules=await rules.store.list(who.tenant_id))


@router.get("/v1/rules/{rule_id}", summary="One rule")
async def get_rule(rule_id: str, who: CurrentStaff, rules: RulesDep) -> Rule:
    return await rules.get(who.tenant_id, rule_id)


@router.put("/v1/rules/{rule_id}", summary="Replace a rule")
async def replace_rule(rule_id: str, spec: RuleSpec, who: CurrentStaff, rules: RulesDep) -> Rule:
    return await rules.replace(who.tenant_id, rule_id, spec)


@router.post("/v1/rules/{rule_id}/enable", summary="Enable a rule")
async def enable_rule(rule_id: str, who: CurrentStaff, rules: RulesDep) -> Rule:
    return await rules.set_enabled(who.tenant_id, rule_id, True)


@router.post("/v1/rules/{rule_id}/disable", summary="Disable a rule (it stops running, its runs stay)")
async def disable_rule(rule_id: str, who: CurrentStaff, rules: RulesDep) -> Rule:
    return await rules.set_enabled(who.tenant_id, rule_id, False)


@router.delete("/v1/rules/{rule_id}", status_code=204, summary="Delete a rule")
async def delete_rule(rule_id: str, who: CurrentStaff, rules: RulesDep) -> Response:
    await rules.delete(who.tenant_id, rule_id)
    return Response(status_code=204)


@router.get("/v1/rules/{rule_id}/runs", summary="A rule's runs, newest first, matched or not and why")
async def rule_runs(rule_id: str, who: CurrentStaff, rules: RulesDep, limit: Limit = 50) -> RuleRuns:
    return RuleRuns(runs=await rules.runs(who.tenant_id, rule_id, limit))


@router.get("/v1/rule-runs", summary="Rule runs of the tenant, optionally for one task, newest first")
async def all_rule_runs(who: CurrentStaff, rules: RulesDep, task_id: str | None = None,
                        limit: Limit = 50) -> RuleRuns:
    return RuleRuns(runs=await rules.store.runs_of(who.tenant_id, task_id=task_id, limit=limit))
