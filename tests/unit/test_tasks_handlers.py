"""The tasks use cases with in-memory fakes: what they change and which messages they stage."""

from __future__ import annotations

from datetime import timedelta

import pytest

from contracts import Actor, utcnow
from contracts.errors import Conflict, Forbidden, Invalid, PermanentFailure
from contracts.messages import (
    ActionDeclined,
    ActionDeclinedPayload,
    ChangePhasePayload,
    ChangeTaskPhase,
    RequestActionPayload,
    RequestTaskAction,
    TaskSigned,
    TaskSignedPayload,
)
from contracts.models import Evidence, FieldSpec, SignatureRef, Signer, TaskSnapshot
from services.runtime.staff_auth import Staff, hash_key
from services.tasks.adapters.idempotency import IdempotencyKey
from services.tasks.domain import DocumentVersion
from services.tasks.handlers import actions, contacts, events, schedule, tasks, tenants
from services.tasks.handlers.actions import SignatureRequest
from tests.unit.tasks_fakes import fake_uow


@pytest.fixture
async def world():
    """A premium tenant with a staff key, a contact and a task waiting for approval."""
    uow = fake_uow()
    created = await tenants.register_tenant(uow, "Bouw BV", "premium", None)
    staff = Staff(tenant_id=created["tenant_id"], key_id="k1", role="staff", plan="premium")
    contact = await contacts.create_contact(
        uow, staff, name="Sanne", email="sanne@example.nl", company=None, language="nl"
    )
    task = await tasks.create_task(
        uow, staff, title="Kitchen", description="", phase="Waiting for approval", contact_id=contact["id"]
    )
    uow.outbox.messages.clear()
    return type(
        "World", (), {"uow": uow, "staff": staff, "contact": contact, "task": task, "tenant_id": created["tenant_id"]}
    )


def sign_request(contact_id: str, **extra) -> SignatureRequest:
    return SignatureRequest(
        contact_id=contact_id, kind="sign_task", fields=[FieldSpec(name="approved_by", label="Approved by")], **extra
    )


def signed(world, action_id: str) -> TaskSigned:
    return TaskSigned(
        tenant_id=world.tenant_id,
        task_id=world.task["id"],
        actor=Actor(kind="contact", id=world.contact["id"]),
        payload=TaskSignedPayload(
            action_id=action_id,
            signer=Signer(contact_id=world.contact["id"], name="Sanne", email="s@e.nl"),
            fields={"approved_by": "Sanne"},
            signature=SignatureRef(signature_id="s1", kind="drawn", image_digest="0" * 64, image_url="http://x"),
            evidence=Evidence(
                signed_at=utcnow(),
                ip="127.0.0.1",
                user_agent="t",
                session_id="s",
                auth_method="magic_link",
                consent_text="ok",
                consent_version="1",
            ),
            task=TaskSnapshot(task_id=world.task["id"], title="Kitchen", phase="Waiting for approval"),
        ),
    )


def rule_command(world, expected: str, phase: str) -> ChangeTaskPhase:
    return ChangeTaskPhase(
        tenant_id=world.tenant_id,
        task_id=world.task["id"],
        payload=ChangePhasePayload(expected_phase=expected, phase=phase, rule_id="r1", rule_name="Approve when signed"),
    )


async def test_registering_a_tenant_stages_its_registration_and_two_hashed_keys():
    uow = fake_uow()
    created = await tenants.register_tenant(uow, "Bouw BV", "basic", "preset-staff-key-123456")
    assert created["staff_key"] == "preset-staff-key-123456" and created["admin_key"].startswith("ak_")
    assert uow.outbox.types() == ["tenant.registered", "staff_key.issued", "staff_key.issued"]
    issued = {m.payload.role: m.payload.key_hash for m in uow.outbox.messages["tasks.events"][1:]}
    assert issued == {"admin": hash_key(created["admin_key"]), "staff": hash_key("preset-staff-key-123456")}
    assert uow.store.tenants[created["tenant_id"]]["phases"][0] == "New"
    with pytest.raises(Conflict):  # another tenant cannot take the same secret
        await tenants.register_tenant(uow, "Other", "basic", "preset-staff-key-123456")


async def test_seeding_the_demo_twice_gives_the_same_key_and_one_tenant():
    uow = fake_uow()
    first, second = await tenants.ensure_demo_tenant(uow), await tenants.ensure_demo_tenant(uow)
    assert first == second and uow.outbox.types().count("tenant.registered") == 1
    assert uow.staff_keys.tenants["demo"]["plan"] == "premium"


async def test_a_rule_command_moves_the_task_and_names_the_rule(world):
    command = rule_command(world, "Waiting for approval", "Approved")
    await events.change_phase_for_rule(command, world.uow)
    [changed] = world.uow.outbox.messages["tasks.events"]
    assert changed.type == "task.phase_changed" and changed.payload.rule_name == "Approve when signed"
    assert changed.actor.kind == "rule" and changed.causation_id == command.event_id
    assert world.uow.store.tasks[world.task["id"]].phase == "Approved"


async def test_a_stale_rule_command_is_recorded_and_changes_nothing(world):
    command = rule_command(world, "In progress", "Approved")
    await events.change_phase_for_rule(command, world.uow)
    assert world.uow.outbox.types() == []
    assert world.uow.store.rejections[command.event_id]["expected_phase"] == "In progress"
    assert world.uow.store.tasks[world.task["id"]].phase == "Waiting for approval"


async def test_a_rule_command_for_an_unknown_task_is_a_permanent_failure(world):
    command = ChangeTaskPhase(
        tenant_id=world.tenant_id, task_id="nope", payload=ChangePhasePayload(expected_phase="New", phase="Done")
    )
    with pytest.raises(PermanentFailure):
        await events.change_phase_for_rule(command, world.uow)


async def test_a_signature_completes_the_action_and_a_late_one_is_only_recorded(world):
    action = await actions.request_signature(
        world.uow, world.staff, world.task["id"], sign_request(world.contact["id"])
    )
    event = signed(world, action["id"])
    await events.complete_signed_action(event, world.uow)
    assert world.uow.store.actions[action["id"]].status == "completed"
    completed = world.uow.outbox.messages["tasks.events"][-1]
    assert completed.type == "task.action_completed" and completed.payload.signed_event_id == event.event_id

    again = signed(world, action["id"])
    await events.complete_signed_action(again, world.uow)
    assert world.uow.outbox.types().count("task.action_completed") == 1
    assert "completed" in world.uow.store.rejections[again.event_id]["reason"]


async def test_a_signature_by_someone_else_than_the_asked_contact_is_a_permanent_failure(world):
    action = await actions.request_signature(
        world.uow, world.staff, world.task["id"], sign_request(world.contact["id"])
    )
    event = signed(world, action["id"])
    forged = event.model_copy(
        update={
            "payload": event.payload.model_copy(
                update={"signer": Signer(contact_id="someone-else", name="X", email="x@e.nl")}
            )
        }
    )
    with pytest.raises(PermanentFailure):
        await events.complete_signed_action(forged, world.uow)
    assert world.uow.store.actions[action["id"]].status == "open"


def decline_of(world, action_id: str) -> ActionDeclined:
    return ActionDeclined(
        tenant_id=world.tenant_id,
        task_id=world.task["id"],
        payload=ActionDeclinedPayload(
            action_id=action_id,
            contact_id=world.contact["id"],
            kind="sign_task",
            reason="Not finished",
            declined_at=utcnow(),
        ),
    )


async def test_a_decline_closes_the_action_as_declined_and_is_accepted_once_carrying_the_decline(world):
    # Given an open action and the portal's decline of it
    action = await actions.request_signature(
        world.uow, world.staff, world.task["id"], sign_request(world.contact["id"])
    )
    decline = decline_of(world, action["id"])
    # When tasks handles the decline, and the same decline again
    await events.decline_action(decline, world.uow)
    await events.decline_action(decline, world.uow)
    # Then the action is declined and tasks accepted it once, carrying the decline as the portal sent it
    assert world.uow.store.actions[action["id"]].status == "declined"
    assert world.uow.outbox.types()[-1] == "task.action_declined"
    [accepted] = [e for e in world.uow.outbox.messages["tasks.events"] if e.type == "task.action_declined"]
    assert accepted.payload.decline == decline and accepted.payload.declined_event_id == decline.event_id
    assert "decline.rejected" not in world.uow.outbox.types()


async def test_a_decline_of_an_action_cancelled_meanwhile_is_refused_and_not_accepted(world):
    # Given an action staff cancelled before the portal's decline of it reached tasks
    action = await actions.request_signature(
        world.uow, world.staff, world.task["id"], sign_request(world.contact["id"])
    )
    await actions.cancel_action(world.uow, world.staff, world.task["id"], action["id"], "wrong")
    decline = decline_of(world, action["id"])
    # When tasks handles the decline
    await events.decline_action(decline, world.uow)
    # Then the action stays cancelled and tasks refuses the decline, saying what the action was
    assert world.uow.store.actions[action["id"]].status == "cancelled"
    assert "task.action_declined" not in world.uow.outbox.types()
    [refused] = [e for e in world.uow.outbox.messages["tasks.events"] if e.type == "decline.rejected"]
    assert refused.payload.declined_event_id == decline.event_id and refused.payload.action_status == "cancelled"


async def test_requests_need_premium_and_a_known_document(world):
    basic = Staff(tenant_id=world.tenant_id, key_id="k2", role="staff", plan="basic")
    with pytest.raises(Forbidden, match="premium"):
        await actions.request_signature(world.uow, basic, world.task["id"], sign_request(world.contact["id"]))
    with pytest.raises(Invalid, match="document"):
        await actions.request_signature(
            world.uow,
            world.staff,
            world.task["id"],
            SignatureRequest(contact_id=world.contact["id"], kind="sign_document", document_id="unknown"),
        )


async def test_expiry_and_reminders_happen_once(world):
    soon = utcnow() + timedelta(minutes=1)
    action = await actions.request_signature(
        world.uow,
        world.staff,
        world.task["id"],
        sign_request(world.contact["id"], remind_at=[soon], expires_at=soon + timedelta(minutes=1)),
    )
    later = soon + timedelta(minutes=5)
    assert await schedule.send_due_reminders(world.uow, later) == 1
    assert await schedule.send_due_reminders(world.uow, later) == 0
    assert await schedule.expire_overdue(world.uow, later) == 1
    assert await schedule.expire_overdue(world.uow, later) == 0
    assert world.uow.outbox.types()[-2:] == ["action.reminder_due", "action.expired"]
    assert world.uow.store.actions[action["id"]].status == "expired"


async def test_a_retried_keyed_request_returns_the_first_task(world):
    def key(title):
        return IdempotencyKey(scope=f"{world.tenant_id}:POST /v1/tasks:k", fingerprint=title)

    first = await tasks.create_task(
        world.uow, world.staff, title="A", description="", phase=None, contact_id=None, idem=key("A")
    )
    again = await tasks.create_task(
        world.uow, world.staff, title="A", description="", phase=None, contact_id=None, idem=key("A")
    )
    assert again == first and world.uow.outbox.types().count("task.created") == 1
    with pytest.raises(Invalid):
        await tasks.create_task(
            world.uow, world.staff, title="B", description="", phase=None, contact_id=None, idem=key("B")
        )


async def test_a_phase_in_use_cannot_be_removed(world):
    with pytest.raises(Conflict, match="Waiting for approval"):
        await tasks.set_phases(world.uow, world.staff, ["New", "Done"])
    assert (await tasks.set_phases(world.uow, world.staff, ["New", "Waiting for approval"]))["phases"][
        1
    ] == "Waiting for approval"


async def test_cancelling_twice_is_a_conflict(world):
    action = await actions.request_signature(
        world.uow, world.staff, world.task["id"], sign_request(world.contact["id"])
    )
    await actions.cancel_action(world.uow, world.staff, world.task["id"], action["id"], "wrong")
    with pytest.raises(Conflict):
        await actions.cancel_action(world.uow, world.staff, world.task["id"], action["id"], "again")
    assert world.uow.outbox.types().count("task.action_cancelled") == 1


def request_command(world, **payload) -> RequestTaskAction:
    body = {
        "contact_id": world.contact["id"],
        "kind": "sign_task",
        "rule_id": "r2",
        "rule_name": "Ask for the task",
        "fields": [FieldSpec(name="approved_by", label="Approved by")],
        **payload,
    }
    return RequestTaskAction(
        tenant_id=world.tenant_id,
        task_id=world.task["id"],
        causation_id="signed-1",
        causation_depth=1,
        actor=Actor(kind="rule", id="r2", name="Ask for the task"),
        payload=RequestActionPayload(**body),
    )


async def test_a_rule_command_requests_an_action_as_staff_would_and_a_redelivery_adds_none(world):
    # Given a rule's task.request_action
    command = request_command(world)
    # When tasks handles it, twice (a redelivery whose tracking record was lost)
    await events.request_action_for_rule(command, world.uow)
    await events.request_action_for_rule(command, world.uow)
    # Then there is one open action, and one task.action_requested that names the rule and its cause
    [action] = world.uow.store.actions.values()
    assert (action.status, action.kind, action.contact_id) == ("open", "sign_task", world.contact["id"])
    assert [f.name for f in action.fields] == ["approved_by"]
    [requested] = world.uow.outbox.messages["tasks.events"]
    assert requested.type == "task.action_requested" and requested.payload.action.action_id == action.id
    assert (requested.payload.rule_id, requested.payload.rule_name) == ("r2", "Ask for the task")
    assert requested.causation_id == command.event_id and requested.correlation_id == command.correlation_id
    assert requested.causation_depth == 1 and requested.actor.kind == "rule"
    assert requested.payload.contact.name == "Sanne" and requested.payload.task.title == "Kitchen"


async def test_a_rule_command_for_an_archived_contact_is_refused_and_recorded(world):
    await contacts.archive_contact(world.uow, world.staff, world.contact["id"])
    world.uow.outbox.messages.clear()
    command = request_command(world)
    await events.request_action_for_rule(command, world.uow)
    assert world.uow.store.actions == {} and world.uow.outbox.types() == []
    rejection = world.uow.store.rejections[command.event_id]
    assert "archived" in rejection["reason"] and rejection["rule_id"] == "r2"


async def test_a_rule_command_naming_another_tenants_document_or_contact_is_refused_and_recorded(world):
    world.uow.store.documents["doc-x"] = DocumentVersion(
        document_id="doc-x", tenant_id="other", version_id="v1", digest="0" * 64
    )
    foreign_document = request_command(world, kind="sign_document", document_id="doc-x", fields=[])
    foreign_contact = request_command(world, contact_id="someone-elses")
    duplicate_fields = request_command(world, fields=[FieldSpec(name="a", label="A"), FieldSpec(name="a", label="B")])
    for command in (foreign_document, foreign_contact, duplicate_fields):
        await events.request_action_for_rule(command, world.uow)
    assert world.uow.store.actions == {} and world.uow.outbox.types() == []
    assert "doc-x not found" in world.uow.store.rejections[foreign_document.event_id]["reason"]
    assert "someone-elses not found" in world.uow.store.rejections[foreign_contact.event_id]["reason"]
    assert "unique" in world.uow.store.rejections[duplicate_fields.event_id]["reason"]


async def test_a_rule_command_for_a_task_of_no_known_tenant_or_task_is_a_permanent_failure(world):
    with pytest.raises(PermanentFailure):
        await events.request_action_for_rule(request_command(world).model_copy(update={"task_id": "nope"}), world.uow)


async def test_a_tenant_is_registered_in_its_time_zone_and_announces_it():
    uow = fake_uow()
    created = await tenants.register_tenant(uow, "Acme", "basic", None, "Asia/Tokyo")
    assert created["time_zone"] == "Asia/Tokyo"
    (registered,) = [m for m in uow.outbox.messages["tasks.events"] if m.type == "tenant.registered"]
    assert registered.payload.time_zone == "Asia/Tokyo"
    # and a tenant registered without one speaks Europe/Amsterdam
    assert (await tenants.register_tenant(uow, "Beta", "basic", None))["time_zone"] == "Europe/Amsterdam"


def test_a_tenant_time_zone_that_is_not_an_iana_zone_is_refused():
    import pydantic

    from services.tasks.entrypoints.api.tenants import TenantIn

    with pytest.raises(pydantic.ValidationError, match="not an IANA time zone"):
        TenantIn(name="Acme", time_zone="Mars/Olympus_Mons")
    assert TenantIn(name="Acme").time_zone == "Europe/Amsterdam"


async def test_an_admin_changes_the_tenants_time_zone_and_it_is_announced_to_the_services_that_use_it():
    # given a tenant in Europe/Amsterdam
    uow = fake_uow()
    created = await tenants.register_tenant(uow, "Acme", "basic", None)
    admin = Staff(tenant_id=created["tenant_id"], key_id="k", role="admin", plan="basic")
    # when its admin moves it to Tokyo
    assert await tenants.set_time_zone(uow, admin, " Asia/Tokyo ") == {"time_zone": "Asia/Tokyo"}
    # then tasks keeps the zone (for itself and its own key projection) and announces it on tasks.events
    assert uow.store.tenants[created["tenant_id"]]["time_zone"] == "Asia/Tokyo"
    assert uow.staff_keys.tenants[created["tenant_id"]]["time_zone"] == "Asia/Tokyo"
    (changed,) = [m for m in uow.outbox.messages["tasks.events"] if m.type == "tenant.time_zone_changed"]
    assert changed.tenant_id == created["tenant_id"] and changed.payload.time_zone == "Asia/Tokyo"


async def test_a_time_zone_that_is_not_an_iana_zone_or_set_by_a_member_is_refused_and_changes_nothing():
    uow = fake_uow()
    created = await tenants.register_tenant(uow, "Acme", "basic", None)
    admin = Staff(tenant_id=created["tenant_id"], key_id="k", role="admin", plan="basic")
    for wrong in ("Mars/Olympus_Mons", "localtime", "", "../etc/passwd"):
        with pytest.raises(Invalid, match="is not an IANA time zone"):
            await tenants.set_time_zone(uow, admin, wrong)
    with pytest.raises(Invalid, match="'Mars/Olympus_Mons'"):
        await tenants.set_time_zone(uow, admin, "Mars/Olympus_Mons")
    with pytest.raises(Forbidden):
        await tenants.set_time_zone(uow, Staff(created["tenant_id"], "k2", "staff", "basic"), "Asia/Tokyo")
    assert uow.store.tenants[created["tenant_id"]]["time_zone"] == "Europe/Amsterdam"
    assert "tenant.time_zone_changed" not in uow.outbox.types()


def test_the_console_offers_the_regions_zones_and_utc_but_no_legacy_alias():
    from services.tasks.domain import time_zone_choices

    choices = time_zone_choices()
    assert {"Europe/Amsterdam", "America/New_York", "Asia/Tokyo", "UTC"} <= set(choices)
    assert not {"US/Eastern", "CET", "localtime"} & set(choices)
