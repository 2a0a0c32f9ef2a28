"""The tasks use cases with in-memory fakes: what they change and which messages they stage."""

from __future__ import annotations

from datetime import timedelta

import pytest

from contracts import Actor, utcnow
from contracts.errors import Conflict, Forbidden, Invalid, PermanentFailure
from contracts.messages import (
    ActionDeclined, ActionDeclinedPayload, ChangePhasePayload, ChangeTaskPhase, RequestActionPayload,
    RequestTaskAction, TaskSigned, TaskSignedPayload,
)
from contracts.models import Evidence, FieldSpec, SignatureRef, Signer, TaskSnapshot
from services.runtime.staff_auth import Staff, hash_key
from services.tasks.adapters.idempotency import IdempotencyKey
from services.tasks.domain import DocumentVersion
from services.tasks.handlers import actions, contacts, events, schedule, tasks, tenants
from services.tasks.handlers.actions import SignatureRequest
from tests.unit.tasks_fakes import fake_deps


@pytest.fixture
async def world():
    """A premium tenant with a staff key, a contact and a task waiting for approval."""
    deps = fake_deps()
    created = await tenants.register_tenant(deps, "Bouw BV", "premium", None)
    staff = Staff(tenant_id=created["tenant_id"], key_id="k1", role="staff", plan="premium")
    contact = await contacts.create_contact(deps, staff, name="Sanne", email="sanne@example.nl", company=None,
                                            language="nl")
    task = await tasks.create_task(deps, staff, title="Kitchen", description="", phase="Waiting for approval",
                                   contact_id=contact["id"])
    deps.outbox.messages.clear()
    return type("World", (), {"deps": deps, "staff": staff, "contact": contact, "task": task,
                              "tenant_id": created["tenant_id"]})


def sign_request(contact_id: str, **extra) -> SignatureRequest:
    return SignatureRequest(contact_id=contact_id, kind="sign_task",
                            fields=[FieldSpec(name="approved_by", label="Approved by")], **extra)


def signed(world, action_id: str) -> TaskSigned:
    return TaskSigned(
        tenant_id=world.tenant_id, task_id=world.task["id"], actor=Actor(kind="contact", id=world.contact["id"]),
        payload=TaskSignedPayload(
            action_id=action_id, signer=Signer(contact_id=world.contact["id"], name="Sanne", email="s@e.nl"),
            fields={"approved_by": "Sanne"},
            signature=SignatureRef(signature_id="s1", kind="drawn", image_digest="0" * 64, image_url="http://x"),
            evidence=Evidence(signed_at=utcnow(), ip="127.0.0.1", user_agent="t", session_id="s",
                              auth_method="magic_link", consent_text="ok", consent_version="1"),
            task=TaskSnapshot(task_id=world.task["id"], title="Kitchen", phase="Waiting for approval")))


def rule_command(world, expected: str, phase: str) -> ChangeTaskPhase:
    return ChangeTaskPhase(tenant_id=world.tenant_id, task_id=world.task["id"],
                           payload=ChangePhasePayload(expected_phase=expected, phase=phase, rule_id="r1",
                                                      rule_name="Approve when signed"))


async def test_registering_a_tenant_stages_its_registration_and_two_hashed_keys():
    deps = fake_deps()
    created = await tenants.register_tenant(deps, "Bouw BV", "basic", "preset-staff-key-123456")
    assert created["staff_key"] == "preset-staff-key-123456" and created["admin_key"].startswith("ak_")
    assert deps.outbox.types() == ["tenant.registered", "staff_key.issued", "staff_key.issued"]
    issued = {m.payload.role: m.payload.key_hash for m in deps.outbox.messages["tasks.events"][1:]}
    assert issued == {"admin": hash_key(created["admin_key"]), "staff": hash_key("preset-staff-key-123456")}
    assert deps.store.tenants[created["tenant_id"]]["phases"][0] == "New"
    with pytest.raises(Conflict):  # another tenant cannot take the same secret
        await tenants.register_tenant(deps, "Other", "basic", "preset-staff-key-123456")


async def test_seeding_the_demo_twice_gives_the_same_key_and_one_tenant():
    deps = fake_deps()
    first, second = await tenants.ensure_demo_tenant(deps), await tenants.ensure_demo_tenant(deps)
    assert first == second and deps.outbox.types().count("tenant.registered") == 1
    assert deps.staff_keys.tenants["demo"]["plan"] == "premium"


async def test_a_rule_command_moves_the_task_and_names_the_rule(world):
    command = rule_command(world, "Waiting for approval", "Approved")
    await events.change_phase_for_rule(world.deps, command, None)
    [changed] = world.deps.outbox.messages["tasks.events"]
    assert changed.type == "task.phase_changed" and changed.payload.rule_name == "Approve when signed"
    assert changed.actor.kind == "rule" and changed.causation_id == command.event_id
    assert world.deps.store.tasks[world.task["id"]].phase == "Approved"


async def test_a_stale_rule_command_is_recorded_and_changes_nothing(world):
    command = rule_command(world, "In progress", "Approved")
    await events.change_phase_for_rule(world.deps, command, None)
    assert world.deps.outbox.types() == []
    assert world.deps.store.rejections[command.event_id]["expected_phase"] == "In progress"
    assert world.deps.store.tasks[world.task["id"]].phase == "Waiting for approval"


async def test_a_rule_command_for_an_unknown_task_is_a_permanent_failure(world):
    command = ChangeTaskPhase(tenant_id=world.tenant_id, task_id="nope",
                              payload=ChangePhasePayload(expected_phase="New", phase="Done"))
    with pytest.raises(PermanentFailure):
        await events.change_phase_for_rule(world.deps, command, None)


async def test_a_signature_completes_the_action_and_a_late_one_is_only_recorded(world):
    action = await actions.request_signature(world.deps, world.staff, world.task["id"],
                                             sign_request(world.contact["id"]))
    event = signed(world, action["id"])
    await events.complete_signed_action(world.deps, event, None)
    assert world.deps.store.actions[action["id"]].status == "completed"
    completed = world.deps.outbox.messages["tasks.events"][-1]
    assert completed.type == "task.action_completed" and completed.payload.signed_event_id == event.event_id

    again = signed(world, action["id"])
    await events.complete_signed_action(world.deps, again, None)
    assert world.deps.outbox.types().count("task.action_completed") == 1
    assert "completed" in world.deps.store.rejections[again.event_id]["reason"]


async def test_a_signature_by_someone_else_than_the_asked_contact_is_a_permanent_failure(world):
    action = await actions.request_signature(world.deps, world.staff, world.task["id"],
                                             sign_request(world.contact["id"]))
    event = signed(world, action["id"])
    forged = event.model_copy(update={"payload": event.payload.model_copy(
        update={"signer": Signer(contact_id="someone-else", name="X", email="x@e.nl")})})
    with pytest.raises(PermanentFailure):
        await events.complete_signed_action(world.deps, forged, None)
    assert world.deps.store.actions[action["id"]].status == "open"


async def test_a_decline_closes_the_action_as_declined(world):
    action = await actions.request_signature(world.deps, world.staff, world.task["id"],
                                             sign_request(world.contact["id"]))
    await events.decline_action(world.deps, ActionDeclined(
        tenant_id=world.tenant_id, task_id=world.task["id"],
        payload=ActionDeclinedPayload(action_id=action["id"], contact_id=world.contact["id"], kind="sign_task",
                                      reason="Not finished", declined_at=utcnow())), None)
    assert world.deps.store.actions[action["id"]].status == "declined"


async def test_requests_need_premium_and_a_known_document(world):
    basic = Staff(tenant_id=world.tenant_id, key_id="k2", role="staff", plan="basic")
    with pytest.raises(Forbidden, match="premium"):
        await actions.request_signature(world.deps, basic, world.task["id"], sign_request(world.contact["id"]))
    with pytest.raises(Invalid, match="document"):
        await actions.request_signature(world.deps, world.staff, world.task["id"], SignatureRequest(
            contact_id=world.contact["id"], kind="sign_document", document_id="unknown"))


async def test_expiry_and_reminders_happen_once(world):
    soon = utcnow() + timedelta(minutes=1)
    action = await actions.request_signature(world.deps, world.staff, world.task["id"], sign_request(
        world.contact["id"], remind_at=[soon], expires_at=soon + timedelta(minutes=1)))
    later = soon + timedelta(minutes=5)
    assert await schedule.send_due_reminders(world.deps, later) == 1
    assert await schedule.send_due_reminders(world.deps, later) == 0
    assert await schedule.expire_overdue(world.deps, later) == 1
    assert await schedule.expire_overdue(world.deps, later) == 0
    assert world.deps.outbox.types()[-2:] == ["action.reminder_due", "action.expired"]
    assert world.deps.store.actions[action["id"]].status == "expired"


async def test_a_retried_keyed_request_returns_the_first_task(world):
    key = lambda title: IdempotencyKey(scope=f"{world.tenant_id}:POST /v1/tasks:k", fingerprint=title)
    first = await tasks.create_task(world.deps, world.staff, title="A", description="", phase=None,
                                    contact_id=None, idem=key("A"))
    again = await tasks.create_task(world.deps, world.staff, title="A", description="", phase=None,
                                    contact_id=None, idem=key("A"))
    assert again == first and world.deps.outbox.types().count("task.created") == 1
    with pytest.raises(Invalid):
        await tasks.create_task(world.deps, world.staff, title="B", description="", phase=None, contact_id=None,
                                idem=key("B"))


async def test_a_phase_in_use_cannot_be_removed(world):
    with pytest.raises(Conflict, match="Waiting for approval"):
        await tasks.set_phases(world.deps, world.staff, ["New", "Done"])
    assert (await tasks.set_phases(world.deps, world.staff, ["New", "Waiting for approval"]))["phases"][1] == \
        "Waiting for approval"


async def test_cancelling_twice_is_a_conflict(world):
    action = await actions.request_signature(world.deps, world.staff, world.task["id"],
                                             sign_request(world.contact["id"]))
    await actions.cancel_action(world.deps, world.staff, world.task["id"], action["id"], "wrong")
    with pytest.raises(Conflict):
        await actions.cancel_action(world.deps, world.staff, world.task["id"], action["id"], "again")
    assert world.deps.outbox.types().count("task.action_cancelled") == 1


def request_command(world, **payload) -> RequestTaskAction:
    body = {"contact_id": world.contact["id"], "kind": "sign_task", "rule_id": "r2", "rule_name": "Ask for the task",
            "fields": [FieldSpec(name="approved_by", label="Approved by")], **payload}
    return RequestTaskAction(tenant_id=world.tenant_id, task_id=world.task["id"], causation_id="signed-1",
                             causation_depth=1, actor=Actor(kind="rule", id="r2", name="Ask for the task"),
                             payload=RequestActionPayload(**body))


async def test_a_rule_command_requests_an_action_as_staff_would_and_a_redelivery_adds_none(world):
    # Given a rule's task.request_action
    command = request_command(world)
    # When tasks handles it, twice (a redelivery whose tracking record was lost)
    await events.request_action_for_rule(world.deps, command, None)
    await events.request_action_for_rule(world.deps, command, None)
    # Then there is one open action, and one task.action_requested that names the rule and its cause
    [action] = world.deps.store.actions.values()
    assert (action.status, action.kind, action.contact_id) == ("open", "sign_task", world.contact["id"])
    assert [f.name for f in action.fields] == ["approved_by"]
    [requested] = world.deps.outbox.messages["tasks.events"]
    assert requested.type == "task.action_requested" and requested.payload.action.action_id == action.id
    assert (requested.payload.rule_id, requested.payload.rule_name) == ("r2", "Ask for the task")
    assert requested.causation_id == command.event_id and requested.correlation_id == command.correlation_id
    assert requested.causation_depth == 1 and requested.actor.kind == "rule"
    assert requested.payload.contact.name == "Sanne" and requested.payload.task.title == "Kitchen"


async def test_a_rule_command_for_an_archived_contact_is_refused_and_recorded(world):
    await contacts.archive_contact(world.deps, world.staff, world.contact["id"])
    world.deps.outbox.messages.clear()
    command = request_command(world)
    await events.request_action_for_rule(world.deps, command, None)
    assert world.deps.store.actions == {} and world.deps.outbox.types() == []
    rejection = world.deps.store.rejections[command.event_id]
    assert "archived" in rejection["reason"] and rejection["rule_id"] == "r2"


async def test_a_rule_command_naming_another_tenants_document_or_contact_is_refused_and_recorded(world):
    world.deps.store.documents["doc-x"] = DocumentVersion(document_id="doc-x", tenant_id="other", version_id="v1",
                                                          digest="0" * 64)
    foreign_document = request_command(world, kind="sign_document", document_id="doc-x", fields=[])
    foreign_contact = request_command(world, contact_id="someone-elses")
    duplicate_fields = request_command(world, fields=[FieldSpec(name="a", label="A"), FieldSpec(name="a", label="B")])
    for command in (foreign_document, foreign_contact, duplicate_fields):
        await events.request_action_for_rule(world.deps, command, None)
    assert world.deps.store.actions == {} and world.deps.outbox.types() == []
    assert "doc-x not found" in world.deps.store.rejections[foreign_document.event_id]["reason"]
    assert "someone-elses not found" in world.deps.store.rejections[foreign_contact.event_id]["reason"]
    assert "unique" in world.deps.store.rejections[duplicate_fields.event_id]["reason"]


async def test_a_rule_command_for_a_task_of_no_known_tenant_or_task_is_a_permanent_failure(world):
    with pytest.raises(PermanentFailure):
        await events.request_action_for_rule(world.deps, request_command(world).model_copy(
            update={"task_id": "nope"}), None)


async def test_a_tenant_is_registered_in_its_time_zone_and_announces_it():
    deps = fake_deps()
    created = await tenants.register_tenant(deps, "Acme", "basic", None, "Asia/Tokyo")
    assert created["time_zone"] == "Asia/Tokyo"
    (registered,) = [m for m in deps.outbox.messages["tasks.events"] if m.type == "tenant.registered"]
    assert registered.payload.time_zone == "Asia/Tokyo"
    # and a tenant registered without one speaks Europe/Amsterdam
    assert (await tenants.register_tenant(deps, "Beta", "basic", None))["time_zone"] == "Europe/Amsterdam"


def test_a_tenant_time_zone_that_is_not_an_iana_zone_is_refused():
    import pydantic
    from services.tasks.entrypoints.api.tenants import TenantIn
    with pytest.raises(pydantic.ValidationError, match="not an IANA time zone"):
        TenantIn(name="Acme", time_zone="Mars/Olympus_Mons")
    assert TenantIn(name="Acme").time_zone == "Europe/Amsterdam"
