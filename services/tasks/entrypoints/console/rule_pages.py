"""Automation: the rules, a form to create or edit one (the product's example offered), runs with their reasons."""

from __future__ import annotations

import json
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from contracts.errors import DomainError, NotFound
from services.tasks.entrypoints.console.deps import PREFIX, Console, ConsoleDep, FormSignedIn, SignedIn, Viewer
from services.tasks.entrypoints.console.render import render
from services.tasks.handlers import tasks

router = APIRouter(prefix=PREFIX, include_in_schema=False)
TRIGGERS = (
    "task.signed",
    "document.signed",
    "action.declined",
    "action.expired",
    "approval.withdrawn",
    "task.phase_changed",
)
CONDITION_FIELDS = ("task.phase", "action.kind", "document_id", "contact_id")
OPS = ("eq", "ne")
FORM_ACTIONS = ("set_phase", "add_note")
EXAMPLE = {
    "name": "Approve on signing",
    "trigger": "task.signed",
    "conditions": [{"field": "task.phase", "op": "eq", "value": "Waiting for approval"}],
    "actions": [{"type": "set_phase", "phase": "Approved"}],
    "enabled": True,
}
ROWS = 3


def spec_of(form, kept_actions: list[dict]) -> dict[str, Any]:
    """The rule the form describes; actions the form cannot show (webhooks, requests) are kept as they were."""
    conditions = []
    for i in range(ROWS):
        field, op, value = (str(form.get(f"c{i}_{k}", "")).strip() for k in ("field", "op", "value"))
        if field and value:
            conditions.append({"field": field, "op": op or "eq", "value": value})
    actions: list[dict[str, Any]] = []
    for i in range(ROWS):
        kind, value = str(form.get(f"a{i}_type", "")), str(form.get(f"a{i}_value", "")).strip()
        if kind == "set_phase" and value:
            actions.append({"type": "set_phase", "phase": value})
        elif kind == "add_note" and value:
            actions.append({"type": "add_note", "text": value})
    return {
        "name": str(form.get("name", "")).strip(),
        "trigger": str(form.get("trigger", "")),
        "conditions": conditions,
        "actions": actions + kept_actions,
        "enabled": form.get("enabled") == "on",
    }


def _kept(rule: dict | None) -> list[dict]:
    return [a for a in (rule or {}).get("actions", []) if a.get("type") not in FORM_ACTIONS]


@router.get("/rules")
async def rule_list(request: Request, console: ConsoleDep, viewer: SignedIn) -> Response:
    rules = (await console.services.json(viewer.staff, "GET", "automation", "/v1/rules"))["rules"]
    runs = (await console.services.json(viewer.staff, "GET", "automation", "/v1/rule-runs", params={"limit": 20}))[
        "runs"
    ]
    return render(
        request,
        "rules.html",
        language=viewer.lang,
        viewer=viewer,
        rules=rules,
        runs=runs,
        done=request.query_params.get("done"),
    )


async def _form(
    request: Request,
    console: Console,
    viewer: Viewer,
    *,
    rule: dict,
    rule_id: str | None,
    error: str | None = None,
    status: int = 200,
    runs: list | None = None,
) -> Response:
    phases = (await tasks.list_phases(console.uow, viewer.staff))["phases"]
    return render(
        request,
        "rule_form.html",
        language=viewer.lang,
        viewer=viewer,
        rule=rule,
        rule_id=rule_id,
        triggers=TRIGGERS,
        condition_fields=CONDITION_FIELDS,
        ops=OPS,
        form_actions=FORM_ACTIONS,
        rows=range(ROWS),
        phases=phases,
        error=error,
        status=status,
        runs=runs or [],
        kept=_kept(rule),
        done=request.query_params.get("done"),
        dumps=json.dumps,
    )


@router.get("/rules/new")
async def new_rule(request: Request, console: ConsoleDep, viewer: SignedIn, example: str = "") -> Response:
    rule = (
        EXAMPLE
        if example == "approve"
        else {"name": "", "trigger": "task.signed", "conditions": [], "actions": [], "enabled": True}
    )
    return await _form(request, console, viewer, rule=rule, rule_id=None)


@router.post("/rules")
async def create_rule(request: Request, console: ConsoleDep, viewer: FormSignedIn) -> Response:
    spec = spec_of(await request.form(), [])
    try:
        created = await console.services.json(viewer.staff, "POST", "automation", "/v1/rules", json=spec)
    except DomainError as exc:
        if isinstance(exc, NotFound):
            raise
        return await _form(request, console, viewer, rule=spec, rule_id=None, error=exc.detail, status=exc.status)
    return RedirectResponse(f"{PREFIX}/rules/{created['id']}?done=created", status_code=303)


@router.get("/rules/{rule_id}")
async def rule_page(request: Request, console: ConsoleDep, viewer: SignedIn, rule_id: str) -> Response:
    rule = await console.services.json(viewer.staff, "GET", "automation", f"/v1/rules/{rule_id}")
    runs = (
        await console.services.json(
            viewer.staff, "GET", "automation", f"/v1/rules/{rule_id}/runs", params={"limit": 50}
        )
    )["runs"]
    return await _form(request, console, viewer, rule=rule, rule_id=rule_id, runs=runs)


@router.post("/rules/{rule_id}")
async def replace_rule(request: Request, console: ConsoleDep, viewer: FormSignedIn, rule_id: str) -> Response:
    rule = await console.services.json(viewer.staff, "GET", "automation", f"/v1/rules/{rule_id}")
    spec = spec_of(await request.form(), _kept(rule))
    try:
        await console.services.json(viewer.staff, "PUT", "automation", f"/v1/rules/{rule_id}", json=spec)
    except DomainError as exc:
        if isinstance(exc, NotFound):
            raise
        return await _form(request, console, viewer, rule=spec, rule_id=rule_id, error=exc.detail, status=exc.status)
    return RedirectResponse(f"{PREFIX}/rules/{rule_id}?done=saved", status_code=303)


@router.post("/rules/{rule_id}/enabled")
async def switch_rule(request: Request, console: ConsoleDep, viewer: FormSignedIn, rule_id: str) -> Response:
    form = await request.form()
    verb = "enable" if form.get("enabled") == "1" else "disable"
    await console.services.json(viewer.staff, "POST", "automation", f"/v1/rules/{rule_id}/{verb}")
    return RedirectResponse(f"{PREFIX}/rules?done={verb}d", status_code=303)
