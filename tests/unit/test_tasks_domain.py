"""The tasks domain: phases, compare-and-set phase changes, the action state machine, request rules."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from contracts.errors import Conflict, Forbidden, Invalid
from contracts.models import FieldSpec
from services.tasks.domain import (
    DEFAULT_PHASES,
    Action,
    ActionNotOpen,
    Contact,
    DocumentVersion,
    PhaseMismatch,
    Task,
    normalise_phases,
    request_action,
    require_signing,
)

NOW = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)
PHASES = list(DEFAULT_PHASES)


def a_task(phase: str = "New") -> Task:
    return Task(id="t1", tenant_id="ten", title="Kitchen", phase=phase, created_at=NOW, updated_at=NOW)


def a_contact(archived: bool = False) -> Contact:
    return Contact(
        id="c1",
        tenant_id="ten",
        name="Sanne",
        email="sanne@example.nl",
        archived=archived,
        created_at=NOW,
        updated_at=NOW,
    )


def an_action(**extra) -> Action:
    return Action(id="a1", tenant_id="ten", task_id="t1", kind="sign_task", contact_id="c1", created_at=NOW, **extra)


def request(**overrides) -> Action:
    args = dict(
        action_id="a1",
        task=a_task(),
        contact=a_contact(),
        kind="sign_task",
        fields=[FieldSpec(name="approved_by", label="Approved by")],
        document=None,
        message=None,
        expires_at=None,
        plan="premium",
        now=NOW,
    )
    return request_action(**{**args, **overrides})


# --- phases ---


def test_the_default_phases_are_the_ones_staff_expect():
    assert PHASES == ["New", "In progress", "Waiting for approval", "Approved", "Changes requested", "Done"]


def test_phase_names_are_trimmed_and_keep_their_order():
    assert normalise_phases([" New ", "Done"]) == ["New", "Done"]


@pytest.mark.parametrize("names", [[], ["New", "new"], ["New", ""], ["x" * 61]])
def test_an_empty_duplicate_or_blank_phase_list_is_refused(names):
    with pytest.raises(Invalid):
        normalise_phases(names)


# --- compare-and-set phase changes ---


def test_a_task_moves_to_a_phase_of_its_tenant():
    task = a_task()
    change = task.change_phase("In progress", PHASES, expected=None, at=NOW + timedelta(minutes=1))
    assert (change.from_phase, change.to_phase) == ("New", "In progress")
    assert task.phase == "In progress" and task.updated_at == NOW + timedelta(minutes=1)


def test_a_phase_outside_the_tenants_list_is_invalid():
    with pytest.raises(Invalid, match="Somewhere"):
        a_task().change_phase("Somewhere", PHASES, expected=None, at=NOW)


def test_compare_and_set_refuses_when_the_task_is_no_longer_in_the_expected_phase():
    task = a_task("Approved")
    with pytest.raises(PhaseMismatch) as refused:
        task.change_phase("Done", PHASES, expected="Waiting for approval", at=NOW)
    assert isinstance(refused.value, Conflict) and refused.value.extra["current_phase"] == "Approved"
    assert task.phase == "Approved"


def test_compare_and_set_applies_when_the_expected_phase_matches():
    task = a_task("Waiting for approval")
    assert task.change_phase("Approved", PHASES, expected="Waiting for approval", at=NOW) is not None
    assert task.phase == "Approved"


def test_moving_to_the_current_phase_changes_nothing():
    assert a_task("Done").change_phase("Done", PHASES, expected="Done", at=NOW) is None


# --- the action state machine ---


@pytest.mark.parametrize(
    "close, status",
    [
        (lambda a: a.complete("evt", NOW), "completed"),
        (lambda a: a.decline("no", NOW), "declined"),
        (lambda a: a.cancel(None, NOW), "cancelled"),
        (lambda a: a.expire(NOW), "expired"),
    ],
)
def test_an_open_action_reaches_each_terminal_status_once(close, status):
    action = an_action()
    close(action)
    assert action.status == status and action.closed_at == NOW
    for again in (
        lambda a: a.complete("evt2", NOW),
        lambda a: a.decline("x", NOW),
        lambda a: a.cancel(None, NOW),
        lambda a: a.expire(NOW),
    ):
        with pytest.raises(ActionNotOpen):
            again(action)
    assert action.status == status


def test_completing_remembers_the_signed_event():
    action = an_action()
    action.complete("signed-1", NOW)
    assert action.signed_event_id == "signed-1"


def test_only_open_actions_past_their_expiry_are_overdue():
    assert an_action(expires_at=NOW - timedelta(seconds=1)).is_overdue(NOW)
    assert not an_action(expires_at=NOW + timedelta(seconds=1)).is_overdue(NOW)
    assert not an_action().is_overdue(NOW)
    assert not an_action(expires_at=NOW - timedelta(seconds=1), status="completed").is_overdue(NOW)


# --- requesting a signature ---


def test_a_premium_tenant_requests_a_signature_that_starts_open():
    action = request(message="Please sign", expires_at=NOW + timedelta(days=7))
    assert action.status == "open" and action.task_id == "t1" and action.contact_id == "c1"
    snapshot = action.snapshot()
    assert snapshot.fields[0].name == "approved_by" and snapshot.message == "Please sign"


def test_signing_is_a_premium_feature():
    with pytest.raises(Forbidden, match="premium"):
        require_signing("basic")
    with pytest.raises(Forbidden):
        request(plan="basic")


def test_a_sign_document_action_pins_the_documents_current_version():
    version = DocumentVersion(document_id="d1", tenant_id="ten", version_id="v3", version=3, digest="ab" * 32)
    action = request(kind="sign_document", document=version, fields=[])
    assert (action.document_id, action.document_version_id, action.document_digest) == ("d1", "v3", "ab" * 32)


@pytest.mark.parametrize(
    "overrides",
    [
        {"kind": "sign_document"},
        {"document": DocumentVersion(document_id="d", tenant_id="ten", version_id="v", digest="x")},
        {"fields": [FieldSpec(name="a", label="A"), FieldSpec(name="a", label="Again")]},
        {"expires_at": NOW - timedelta(minutes=1)},
        {"expires_at": datetime(2030, 1, 1)},
    ],
)
def test_an_inconsistent_request_is_invalid(overrides):
    with pytest.raises(Invalid):
        request(**overrides)


def test_an_archived_contact_gets_no_new_requests():
    with pytest.raises(Conflict):
        request(contact=a_contact(archived=True))


# --- reminders ---


def test_reminders_are_due_in_order_and_each_counted_once():
    action = request(remind_at=[NOW + timedelta(days=7), NOW + timedelta(days=3)], expires_at=NOW + timedelta(days=14))
    assert action.next_reminder_at == NOW + timedelta(days=3)
    with pytest.raises(Conflict):
        action.remind(NOW + timedelta(days=1))  # not due yet
    assert action.remind(NOW + timedelta(days=3)) == 1
    assert action.next_reminder_at == NOW + timedelta(days=7)
    assert action.remind(NOW + timedelta(days=8)) == 2
    assert action.next_reminder_at is None


def test_a_closed_action_gets_no_reminders():
    action = request(remind_at=[NOW + timedelta(days=3)])
    action.cancel(None, NOW)
    assert action.next_reminder_at is None
    with pytest.raises(ActionNotOpen):
        action.remind(NOW + timedelta(days=4))


@pytest.mark.parametrize(
    "remind_at", [[NOW - timedelta(hours=1)], [NOW + timedelta(days=20)], [NOW + timedelta(days=1)] * 11]
)
def test_reminders_in_the_past_after_expiry_or_too_many_are_invalid(remind_at):
    with pytest.raises(Invalid):
        request(remind_at=remind_at, expires_at=NOW + timedelta(days=14))
