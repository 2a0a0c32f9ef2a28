"""Automation's use cases with in-memory fakes: what a trigger event sends and records."""

from __future__ import annotations

from contracts import utcnow
from services.automation import bootstrap, handlers
from services.automation.config import Settings
from services.automation.domain import Rule, RuleSpec
from services.automation.unit_of_work import UnitOfWork
from tests.support import approval_events as ev
from tests.unit.fake_session import FAKE_SESSION

JAN = ev.contact()
SEED = RuleSpec(
    name="Approve on signing",
    trigger="task.signed",
    conditions=[{"field": "task.phase", "op": "eq", "value": "Waiting for approval"}],
    actions=[{"type": "set_phase", "phase": "Approved"}],
)


class FakeRules:
    async def ensure_indexes(self):
        pass

    def __init__(self, *specs: RuleSpec):
        self.rules = [
            Rule(**s.model_dump(), id=f"r{i}", tenant_id="t1", created_at=utcnow(), updated_at=utcnow())
            for i, s in enumerate(specs, start=1)
        ]
        self.phases: dict[str, str] = {}
        self.actions: dict[str, dict] = {}
        self.runs: list[dict] = []

    async def triggered_by(self, tenant_id, trigger, session):
        return [r for r in self.rules if r.tenant_id == tenant_id and r.trigger == trigger and r.enabled]

    async def set_phase(self, tenant_id, task_id, phase, event_id, session):
        self.phases[task_id] = phase

    async def phase_of(self, tenant_id, task_id, session):
        return self.phases.get(task_id)

    async def note_action(self, tenant_id, action_id, facts, session):
        self.actions[action_id] = facts

    async def action(self, tenant_id, action_id, session):
        return self.actions.get(action_id)

    async def record_run(self, run, session):
        self.runs.append(run)

    async def mark_applied(self, tenant_id, command_id, applied_by, session):
        for run in self.runs:
            if any(sent.get("event_id") == command_id for sent in run["sent"]):
                run.setdefault("applied", {})[command_id] = applied_by


class FakeOutbox:
    def __init__(self):
        self.sent: list[tuple[str, object]] = []

    async def add(self, session, topic, *messages):
        self.sent += [(topic, m) for m in messages]


def automation(*specs: RuleSpec) -> tuple[UnitOfWork, FakeRules, FakeOutbox]:
    rules, outbox = FakeRules(*specs), FakeOutbox()
    return bootstrap.build(Settings(), store=rules, outbox=outbox).uow.bound(FAKE_SESSION), rules, outbox


async def test_a_signing_after_the_task_was_created_sends_the_phase_change_with_the_projected_phase():
    uow, rules, outbox = automation(SEED)
    await handlers.learn(ev.task_created("t1", "task-1", phase="Waiting for approval"), uow)
    await handlers.react(ev.task_signed("t1", "task-1", "a1", JAN, phase="stale"), uow)
    [(topic, command)] = outbox.sent
    assert topic == "tasks.commands" and command.payload.expected_phase == "Waiting for approval"
    assert rules.runs[0]["status"] == "matched" and rules.runs[0]["sent"][0]["event_id"] == command.event_id


async def test_a_rule_driven_phase_change_updates_what_the_next_rule_sees():
    watch = RuleSpec(
        name="After approval",
        trigger="task.phase_changed",
        conditions=[{"field": "task.phase", "op": "eq", "value": "Approved"}],
        actions=[{"type": "add_note", "text": "Approved: invoice it"}],
    )
    uow, rules, outbox = automation(watch)
    await handlers.on_phase_changed(
        ev.phase_changed("t1", "task-1", "Waiting for approval", "Approved", rule_name="Approve on signing", depth=1),
        uow,
    )
    assert rules.phases["task-1"] == "Approved"
    [(topic, note)] = outbox.sent
    assert topic == "automation.events" and note.causation_depth == 2 and note.payload.text == "Approved: invoice it"


async def test_a_tenants_rules_never_run_for_another_tenants_event():
    uow, rules, outbox = automation(SEED)
    await handlers.react(ev.task_signed("t2", "task-1", "a1", JAN), uow)
    assert outbox.sent == [] and rules.runs == []


async def test_a_stopped_run_is_recorded_and_sends_nothing():
    uow, rules, outbox = automation(SEED)
    await handlers.react(ev.task_signed("t1", "task-1", "a1", JAN, depth=5), uow)
    assert outbox.sent == [] and rules.runs[0]["status"] == "stopped"


async def test_a_rule_request_is_sent_to_tasks_and_its_run_shows_the_request_that_followed():
    # Given a rule that asks the signer of a document to sign the task
    ask = RuleSpec(
        name="Then sign the task", trigger="document.signed", actions=[{"type": "request_action", "kind": "sign_task"}]
    )
    uow, rules, outbox = automation(ask)
    # When a document is signed
    await handlers.react(ev.document_signed("t1", "task-1", "a-doc", JAN), uow)
    [(topic, command)] = outbox.sent
    assert topic == "tasks.commands" and command.type == "task.request_action"
    assert command.payload.contact_id == "c-jan" and rules.runs[0]["sent"][0]["type"] == "task.request_action"
    # And tasks' task.action_requested caused by the command marks the run applied
    requested = ev.requested("t1", "task-1", JAN, "a-new")
    requested = requested.model_copy(
        update={
            "causation_id": command.event_id,
            "payload": requested.payload.model_copy(update={"rule_id": "r1", "rule_name": "Then sign the task"}),
        }
    )
    await handlers.learn(requested, uow)
    assert rules.runs[0]["applied"] == {command.event_id: requested.event_id}
