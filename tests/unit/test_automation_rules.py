"""Rule evaluation is pure: trigger, conditions over the event's facts, effects, and a loop bound."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from contracts import utcnow
from services.automation.domain import (
    MAX_CAUSATION_DEPTH,
    ActionRequest,
    AddNote,
    Condition,
    Facts,
    Note,
    PhaseChange,
    RequestAction,
    Rule,
    RuleSpec,
    SetPhase,
    evaluate,
    facts_for,
)
from services.automation.handlers import effect_message
from tests.support import approval_events as ev

JAN = ev.contact()

SEED_RULE = RuleSpec(
    name="Approve on signing",
    trigger="task.signed",
    conditions=[{"field": "task.phase", "op": "eq", "value": "Waiting for approval"}],
    actions=[{"type": "set_phase", "phase": "Approved"}],
)


def facts(phase="Waiting for approval", **more) -> Facts:
    return Facts(task_id="task-1", phase=phase, **more)


def test_the_seed_rule_approves_a_signed_task_waiting_for_approval():
    decision = evaluate(SEED_RULE, "task.signed", facts(), causation_depth=0)
    assert decision.status == "matched"
    assert decision.effects == [PhaseChange(expected_phase="Waiting for approval", phase="Approved")]


def test_a_condition_that_does_not_hold_matches_nothing_and_says_why():
    decision = evaluate(SEED_RULE, "task.signed", facts("New"), causation_depth=0)
    assert decision.status == "not_matched" and decision.effects == []
    assert decision.reasons == ["task.phase is 'New': eq 'Waiting for approval' does not hold"]


def test_an_unknown_phase_does_not_satisfy_a_phase_condition():
    decision = evaluate(SEED_RULE, "task.signed", facts(None), causation_depth=0)
    assert decision.status == "not_matched" and "unknown" in decision.reasons[0]


def test_a_run_past_the_depth_bound_stops_and_says_so():
    assert evaluate(SEED_RULE, "task.signed", facts(), MAX_CAUSATION_DEPTH - 1).status == "matched"
    decision = evaluate(SEED_RULE, "task.signed", facts(), MAX_CAUSATION_DEPTH)
    assert decision.status == "stopped" and decision.effects == [] and "limit of 5" in decision.reasons[0]


def test_another_trigger_does_not_match():
    assert evaluate(SEED_RULE, "document.signed", facts(), 0).status == "not_matched"


@pytest.mark.parametrize(
    "condition, expected",
    [
        ({"field": "task.phase", "op": "in", "value": ["Waiting for approval", "Review"]}, True),
        ({"field": "task.phase", "op": "not_in", "value": ["Waiting for approval"]}, False),
        ({"field": "action.kind", "op": "eq", "value": "sign_task"}, True),
        ({"field": "contact_id", "op": "ne", "value": "c-piet"}, True),
        ({"field": "fields.remarks", "op": "eq", "value": "All good"}, True),
        ({"field": "fields.missing", "op": "eq", "value": "x"}, False),
        ({"field": "document_id", "op": "eq", "value": "doc-1"}, False),
    ],
)
def test_conditions_test_the_facts_of_the_event(condition, expected):
    rule = SEED_RULE.model_copy(update={"conditions": [Condition(**condition)]})
    f = facts(action_kind="sign_task", contact_id="c-jan", fields={"remarks": "All good"})
    assert evaluate(rule, "task.signed", f, 0).matched is expected


def test_a_membership_condition_needs_a_list_and_an_unknown_field_is_refused():
    with pytest.raises(ValidationError):
        Condition(field="task.phase", op="in", value="Approved")
    with pytest.raises(ValidationError):
        Condition(field="task.title", op="eq", value="x")
    with pytest.raises(ValidationError):
        RuleSpec(name="r", trigger="task.created", actions=[{"type": "set_phase", "phase": "x"}])


def test_two_phase_changes_in_one_rule_chain_their_expected_phases_and_a_note_follows():
    rule = RuleSpec(
        name="Approve and invoice",
        trigger="task.signed",
        conditions=SEED_RULE.conditions,
        actions=[*SEED_RULE.actions, AddNote(text="Approved, invoice it"), SetPhase(phase="Invoiced")],
    )
    effects = evaluate(rule, "task.signed", facts(), 0).effects
    assert effects == [
        PhaseChange("Waiting for approval", "Approved"),
        Note("Approved, invoice it"),
        PhaseChange("Approved", "Invoiced"),
    ]


def test_the_projected_phase_wins_over_the_snapshot_in_the_event_and_the_snapshot_is_the_fallback():
    signed = ev.task_signed("t1", "task-1", "a1", JAN, phase="New")
    assert facts_for(signed, "Waiting for approval", None).phase == "Waiting for approval"
    assert facts_for(signed, None, None).phase == "New"
    assert facts_for(signed, None, None).action_kind == "sign_task"


def test_a_decline_knows_the_document_from_the_request():
    f = facts_for(ev.declined("t1", "task-1", "a1", JAN), "Waiting", {"kind": "sign_document", "document_id": "doc-1"})
    assert (f.action_kind, f.document_id, f.contact_id) == ("sign_task", "doc-1", "c-jan")


def test_the_command_is_caused_by_the_event_one_hop_deeper_and_names_the_rule():
    signed = ev.task_signed("t1", "task-1", "a1", JAN, depth=2)
    rule = Rule(**SEED_RULE.model_dump(), id="r1", tenant_id="t1", created_at=utcnow(), updated_at=utcnow())
    topic, command = effect_message(signed, rule, PhaseChange("Waiting for approval", "Approved"))
    assert topic == "tasks.commands" and command.type == "task.change_phase"
    assert command.causation_id == signed.event_id and command.correlation_id == signed.correlation_id
    assert command.causation_depth == 3 and command.task_id == "task-1"
    assert (command.actor.kind, command.actor.id, command.actor.name) == ("rule", "r1", "Approve on signing")
    assert (command.payload.rule_id, command.payload.rule_name) == ("r1", "Approve on signing")


ASK_FOR_THE_TASK = RuleSpec(
    name="Then sign the task",
    trigger="document.signed",
    actions=[
        {
            "type": "request_action",
            "kind": "sign_task",
            "message": "Now the task",
            "fields": [{"name": "approved_by", "label": "Approved by"}],
        }
    ],
)


def test_a_signed_document_asks_the_same_contact_to_sign_the_task():
    # Given a rule on document.signed that requests a sign_task action without naming a contact
    signed = ev.document_signed("t1", "task-1", "a-doc", JAN)
    # When it is evaluated for a signed document
    decision = evaluate(ASK_FOR_THE_TASK, "document.signed", facts_for(signed, "Waiting for approval", None), 0)
    # Then it asks the signer (the triggering event's contact) for the task's signature, with the rule's fields
    [effect] = decision.effects
    assert decision.matched and isinstance(effect, ActionRequest)
    assert (effect.kind, effect.contact_id, effect.document_id, effect.message) == (
        "sign_task",
        "c-jan",
        None,
        "Now the task",
    )
    assert [f.name for f in effect.fields] == ["approved_by"]
    # And the command to tasks is task.request_action, caused by the signing one hop deeper, naming the rule
    rule = Rule(**ASK_FOR_THE_TASK.model_dump(), id="r7", tenant_id="t1", created_at=utcnow(), updated_at=utcnow())
    topic, command = effect_message(signed, rule, effect)
    assert topic == "tasks.commands" and command.type == "task.request_action" and command.task_id == "task-1"
    assert command.causation_id == signed.event_id and command.causation_depth == 1
    assert (command.actor.kind, command.actor.id) == ("rule", "r7")
    assert command.payload.model_dump(mode="json") == {
        "contact_id": "c-jan",
        "kind": "sign_task",
        "document_id": None,
        "message": "Now the task",
        "fields": [{"name": "approved_by", "label": "Approved by", "type": "text", "required": True}],
        "expires_in_hours": None,
        "remind_in_hours": [],
        "rule_id": "r7",
        "rule_name": "Then sign the task",
    }


def test_a_request_can_give_the_customer_a_deadline_and_reminders_in_hours_from_when_it_opens():
    rule = RuleSpec(
        name="Ask",
        trigger="document.signed",
        actions=[RequestAction(kind="sign_task", expires_in_hours=72, remind_in_hours=[48, 24, 48])],
    )
    signed = ev.document_signed("t1", "task-1", "a-doc", JAN)
    [effect] = evaluate(rule, "document.signed", facts_for(signed, None, None), 0).effects
    assert (effect.expires_in_hours, effect.remind_in_hours) == (72, (24, 48))
    stored = Rule(**rule.model_dump(), id="r8", tenant_id="t1", created_at=utcnow(), updated_at=utcnow())
    _, command = effect_message(signed, stored, effect)
    assert (command.payload.expires_in_hours, command.payload.remind_in_hours) == (72, [24, 48])


def test_a_request_can_name_its_own_contact_and_another_document():
    rule = RuleSpec(
        name="Ask Piet",
        trigger="task.signed",
        actions=[RequestAction(kind="sign_document", document_id="doc-2", contact_id="c-piet")],
    )
    [effect] = evaluate(rule, "task.signed", facts(contact_id="c-jan"), 0).effects
    assert (effect.kind, effect.contact_id, effect.document_id) == ("sign_document", "c-piet", "doc-2")


def test_a_request_with_no_one_to_ask_is_skipped_and_says_why():
    rule = RuleSpec(name="Ask", trigger="approval.withdrawn", actions=[RequestAction(kind="sign_task")])
    decision = evaluate(rule, "approval.withdrawn", facts(), 0)
    assert decision.matched and decision.effects == []
    assert decision.reasons[-1] == "request_action sign_task skipped: the event names no contact to ask"


@pytest.mark.parametrize(
    "action, trigger, problem",
    [
        ({"type": "request_action", "kind": "sign_document"}, "task.signed", "needs a document_id"),
        ({"type": "request_action", "kind": "sign_task", "document_id": "doc-1"}, "task.signed", "has no document_id"),
        (
            {
                "type": "request_action",
                "kind": "sign_task",
                "fields": [{"name": "a", "label": "A"}, {"name": "a", "label": "B"}],
            },
            "task.signed",
            "unique",
        ),
        ({"type": "request_action", "kind": "sign_contract"}, "task.signed", "kind"),
        ({"type": "request_action", "kind": "sign_task"}, "task.phase_changed", "needs a contact_id"),
        (
            {"type": "request_action", "kind": "sign_task", "expires_in_hours": 24, "remind_in_hours": [24]},
            "task.signed",
            "before the action expires",
        ),
        ({"type": "request_action", "kind": "sign_task", "remind_in_hours": [0]}, "task.signed", "from 1 up"),
        (
            {"type": "request_action", "kind": "sign_task", "expires_in_hours": 0},
            "task.signed",
            "greater than or equal",
        ),
    ],
)
def test_a_request_action_that_could_never_be_applied_is_refused_when_the_rule_is_written(action, trigger, problem):
    with pytest.raises(ValidationError, match=problem):
        RuleSpec(name="r", trigger=trigger, actions=[action])
