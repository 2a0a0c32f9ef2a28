"""Rule evaluation is pure: trigger, conditions over the event's facts, effects, and a loop bound."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from pydantic import ValidationError

from tests import approval_events as ev
from services.automation.domain import (
    MAX_CAUSATION_DEPTH, AddNote, Condition, Facts, Note, PhaseChange, RuleSpec, SetPhase, evaluate, facts_for,
)
from services.automation.handlers import effect_message
from services.automation.domain import Rule
from contracts import utcnow

JAN = ev.contact()

SEED_RULE = RuleSpec(name="Approve on signing", trigger="task.signed",
                     conditions=[{"field": "task.phase", "op": "eq", "value": "Waiting for approval"}],
                     actions=[{"type": "set_phase", "phase": "Approved"}])


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


@pytest.mark.parametrize("condition, expected", [
    ({"field": "task.phase", "op": "in", "value": ["Waiting for approval", "Review"]}, True),
    ({"field": "task.phase", "op": "not_in", "value": ["Waiting for approval"]}, False),
    ({"field": "action.kind", "op": "eq", "value": "sign_task"}, True),
    ({"field": "contact_id", "op": "ne", "value": "c-piet"}, True),
    ({"field": "fields.remarks", "op": "eq", "value": "All good"}, True),
    ({"field": "fields.missing", "op": "eq", "value": "x"}, False),
    ({"field": "document_id", "op": "eq", "value": "doc-1"}, False),
])
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
    rule = RuleSpec(name="Approve and invoice", trigger="task.signed", conditions=SEED_RULE.conditions,
                    actions=[*SEED_RULE.actions, AddNote(text="Approved, invoice it"), SetPhase(phase="Invoiced")])
    effects = evaluate(rule, "task.signed", facts(), 0).effects
    assert effects == [PhaseChange("Waiting for approval", "Approved"), Note("Approved, invoice it"),
                       PhaseChange("Approved", "Invoiced")]


def test_the_projected_phase_wins_over_the_snapshot_in_the_event_and_the_snapshot_is_the_fallback():
    signed = ev.task_signed("t1", "task-1", "a1", JAN, phase="New")
    assert facts_for(signed, "Waiting for approval", None).phase == "Waiting for approval"
    assert facts_for(signed, None, None).phase == "New"
    assert facts_for(signed, None, None).action_kind == "sign_task"


def test_a_decline_knows_the_document_from_the_request():
    f = facts_for(ev.declined("t1", "task-1", "a1", JAN), "Waiting", {"kind": "sign_document",
                                                                      "document_id": "doc-1"})
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


def test_the_domain_imports_no_io_library():
    tree = ast.parse(Path("services/automation/domain.py").read_text())
    imported = {n.module.split(".")[0] for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) and n.module}
    assert imported <= {"__future__", "dataclasses", "datetime", "typing", "pydantic", "contracts"}
