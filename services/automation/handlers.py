"""Use cases: manage rules; keep the task-phase projection; run the rules a trigger event matches."""

from __future__ import annotations

from typing import Any, assert_never

from contracts import Actor, Envelope, new_id, utcnow
from contracts import messages as m
from contracts.errors import Invalid, NotFound
from services.automation import webhook_handlers
from services.automation.domain import (
    ActionRequest,
    CallWebhook,
    Note,
    PhaseChange,
    Rule,
    RuleSpec,
    WebhookCall,
    evaluate,
    facts_for,
)
from services.automation.unit_of_work import UnitOfWork


def _now():
    # MongoDB keeps milliseconds: what the API answers on create is what it answers later.
    now = utcnow()
    return now.replace(microsecond=now.microsecond // 1000 * 1000)


def _caused_by_rule(event: Envelope, rule: Rule) -> dict:
    # One hop deeper than the cause: the depth is what stops rules from triggering each other forever.
    return {
        **event.caused(),
        "causation_depth": event.causation_depth + 1,
        "actor": Actor(kind="rule", id=rule.id, name=rule.name),
    }


RuleMessage = m.ChangeTaskPhase | m.RequestTaskAction | m.TimelineNoteAdded


def effect_message(event: Envelope, rule: Rule, effect: PhaseChange | Note | ActionRequest) -> tuple[str, RuleMessage]:
    """The message a rule's effect sends, and its topic (as contracts route it)."""
    message: RuleMessage
    match effect:
        case PhaseChange():
            message = m.ChangeTaskPhase(
                **_caused_by_rule(event, rule),
                payload=m.ChangePhasePayload(
                    expected_phase=effect.expected_phase, phase=effect.phase, rule_id=rule.id, rule_name=rule.name
                ),
            )
        case ActionRequest():
            message = m.RequestTaskAction(
                **_caused_by_rule(event, rule),
                payload=m.RequestActionPayload(
                    contact_id=effect.contact_id,
                    kind=effect.kind,
                    fields=list(effect.fields),
                    document_id=effect.document_id,
                    message=effect.message,
                    expires_in_hours=effect.expires_in_hours,
                    remind_in_hours=list(effect.remind_in_hours),
                    rule_id=rule.id,
                    rule_name=rule.name,
                ),
            )
        case Note():
            message = m.TimelineNoteAdded(
                **_caused_by_rule(event, rule),
                payload=m.NoteAddedPayload(text=effect.text, rule_id=rule.id, rule_name=rule.name),
            )
        case _:
            assert_never(effect)
    return m.topic_of(message), message


async def _check_endpoints(uow: UnitOfWork, tenant_id: str, spec: RuleSpec) -> None:
    for action in spec.actions:
        if isinstance(action, CallWebhook) and await uow.webhooks.endpoint(tenant_id, action.endpoint_id) is None:
            raise Invalid(
                f"webhook endpoint {action.endpoint_id} not found",
                errors=[{"field": "actions.endpoint_id", "message": "no such webhook endpoint"}],
            )


async def create_rule(uow: UnitOfWork, tenant_id: str, spec: RuleSpec) -> Rule:
    await _check_endpoints(uow, tenant_id, spec)
    now = _now()
    rule = Rule(**spec.model_dump(), id=new_id(), tenant_id=tenant_id, created_at=now, updated_at=now)
    await uow.store.add(rule)
    return rule


async def get_rule(uow: UnitOfWork, tenant_id: str, rule_id: str) -> Rule:
    rule = await uow.store.get(tenant_id, rule_id)
    if rule is None:
        raise NotFound(f"rule {rule_id} not found")
    return rule


async def replace_rule(uow: UnitOfWork, tenant_id: str, rule_id: str, spec: RuleSpec) -> Rule:
    old = await get_rule(uow, tenant_id, rule_id)
    await _check_endpoints(uow, tenant_id, spec)
    rule = Rule(**spec.model_dump(), id=old.id, tenant_id=tenant_id, created_at=old.created_at, updated_at=_now())
    await uow.store.replace(rule)
    return rule


async def set_rule_enabled(uow: UnitOfWork, tenant_id: str, rule_id: str, enabled: bool) -> Rule:
    old = await get_rule(uow, tenant_id, rule_id)
    return await replace_rule(
        uow, tenant_id, rule_id, RuleSpec(**{**old.model_dump(include=set(RuleSpec.model_fields)), "enabled": enabled})
    )


async def delete_rule(uow: UnitOfWork, tenant_id: str, rule_id: str) -> None:
    if not await uow.store.remove(tenant_id, rule_id):
        raise NotFound(f"rule {rule_id} not found")


async def runs_of_rule(uow: UnitOfWork, tenant_id: str, rule_id: str, limit: int) -> list[dict]:
    await get_rule(uow, tenant_id, rule_id)
    return await uow.store.runs_of(tenant_id, rule_id=rule_id, limit=limit)


async def learn(event: Envelope, uow: UnitOfWork) -> None:
    """Project what rules need to know about tasks: the current phase and each action's request."""
    if event.task_id is None:
        return
    if isinstance(event, (m.TaskCreated, m.TaskUpdated)):
        await uow.store.set_phase(event.tenant_id, event.task_id, event.payload.task.phase, event.event_id, uow.tx)
    elif isinstance(event, m.TaskPhaseChanged):
        await uow.store.set_phase(event.tenant_id, event.task_id, event.payload.to_phase, event.event_id, uow.tx)
    elif isinstance(event, m.TaskActionRequested):
        a = event.payload.action
        await uow.store.note_action(
            event.tenant_id,
            a.action_id,
            {
                "tenant_id": event.tenant_id,
                "task_id": event.task_id,
                "kind": a.kind,
                "contact_id": a.contact_id,
                "document_id": a.document_id,
            },
            uow.tx,
        )
        if event.payload.rule_id and event.causation_id:
            # Tasks applied a rule's task.request_action: its run shows the request that followed.
            await uow.store.mark_applied(event.tenant_id, event.causation_id, event.event_id, uow.tx)


async def react(event: Envelope, uow: UnitOfWork) -> None:
    """Run every enabled rule of the tenant that `event` triggers, and record each run."""
    if event.task_id is None:
        return
    rules = await uow.store.triggered_by(event.tenant_id, event.type, uow.tx)
    if not rules:
        return
    phase = await uow.store.phase_of(event.tenant_id, event.task_id, uow.tx)
    action_id = getattr(getattr(event, "payload", None), "action_id", None)
    action = await uow.store.action(event.tenant_id, action_id, uow.tx) if action_id else None
    facts = facts_for(event, phase, action)
    for rule in rules:
        decision = evaluate(rule, event.type, facts, event.causation_depth)
        sent: list[dict[str, Any]] = []
        for effect in decision.effects:
            if isinstance(effect, WebhookCall):
                delivery = await webhook_handlers.call_for_rule(
                    uow, event, effect.endpoint_id, {"id": rule.id, "name": rule.name}
                )
                if delivery is None:
                    decision.reasons.append(f"webhook endpoint {effect.endpoint_id} is gone or disabled")
                else:
                    sent.append({"type": "webhook", "endpoint_id": effect.endpoint_id, "delivery_id": delivery})
                continue
            topic, message = effect_message(event, rule, effect)  # exhaustive over the other effects
            await uow.outbox.add(uow.tx, topic, message)
            sent.append(
                {
                    "event_id": message.event_id,
                    "type": message.type,
                    "topic": topic,
                    "payload": message.payload.model_dump(mode="json"),
                }
            )
        await uow.store.record_run(
            {
                "_id": f"{rule.id}:{event.event_id}",
                "tenant_id": event.tenant_id,
                "rule_id": rule.id,
                "rule_name": rule.name,
                "task_id": event.task_id,
                "event_id": event.event_id,
                "event_type": event.type,
                "causation_depth": event.causation_depth,
                "at": utcnow(),
                "status": decision.status,
                "matched": decision.matched,
                "reasons": decision.reasons,
                "facts": facts.model_dump(),
                "sent": sent,
            },
            uow.tx,
        )


async def on_phase_changed(event: Envelope, uow: UnitOfWork) -> None:
    await learn(event, uow)
    if isinstance(event, m.TaskPhaseChanged) and event.payload.rule_id and event.causation_id:
        # Tasks applied a rule's command (compare-and-set held); a command it refused leaves no mark.
        await uow.store.mark_applied(event.tenant_id, event.causation_id, event.event_id, uow.tx)
    await react(event, uow)
