"""Building timeline entries from events: two audiences, proof for staff, nothing staff-only for customers."""

from __future__ import annotations

from contracts import messages as m
from contracts.envelope import SYSTEM
from services.timeline.domain import Known, KnownAction, build_entries, entry_id
from tests.support import approval_events as ev

JAN = ev.contact("c-jan", "Jan")


def by_audience(entries):
    return {e.audience: e for e in entries}


def test_a_signing_gives_staff_full_evidence_and_the_portal_proof_without_ip_or_user_agent():
    # Given Jan signs a task
    signed = ev.task_signed("t1", "task-1", "a1", JAN)
    # When the timeline builds its entries
    entries = by_audience(build_entries(signed))
    # Then staff see signer, fields, time and the full evidence
    staff = entries["staff"]
    assert staff.summary == "Signed by Jan"
    assert staff.data["ip"] == "203.0.113.7" and staff.data["user_agent"] == "Firefox/140"
    assert staff.data["auth_method"] == "magic_link" and staff.data["signature"]["image_digest"]
    # And the portal sees the proof without IP, user agent or session
    portal = entries["portal"]
    assert portal.data["signer"]["name"] == "Jan" and portal.data["fields"] == {"remarks": "All good"}
    assert portal.data["signed_at"].startswith("2026-11-30T09:30")
    assert not {"ip", "user_agent", "session_id", "auth_method", "signature"} & portal.data.keys()
    assert portal.contact_id == "c-jan" and portal.actor == {"kind": "contact", "name": "Jan"}


def test_entry_ids_derive_from_the_event_and_the_audience_so_a_replay_builds_the_same_entries():
    signed = ev.task_signed("t1", "task-1", "a1", JAN)
    first, again = build_entries(signed), build_entries(signed)
    assert [e.id for e in first] == [entry_id(signed.event_id, "staff"), entry_id(signed.event_id, "portal")]
    assert first == again


def test_a_request_reads_signature_requested_from_the_contact_in_both_timelines():
    entries = by_audience(build_entries(ev.requested("t1", "task-1", JAN, "a1")))
    assert entries["staff"].summary == entries["portal"].summary == "Signature requested from Jan"
    assert entries["portal"].contact_id == "c-jan" and entries["portal"].action_id == "a1"
    assert "contact" in entries["staff"].data and "contact" not in entries["portal"].data


def test_a_request_by_a_rule_names_the_rule_for_staff_only():
    requested = ev.requested("t1", "task-1", JAN, "a2")
    requested = requested.model_copy(
        update={"payload": requested.payload.model_copy(update={"rule_id": "r7", "rule_name": "Then sign the task"})}
    )
    entries = by_audience(build_entries(requested))
    assert entries["staff"].summary == "Signature requested from Jan by rule 'Then sign the task'"
    assert entries["staff"].data["rule_name"] == "Then sign the task" and entries["staff"].data["rule_id"] == "r7"
    assert entries["portal"].summary == "Signature requested from Jan"
    assert "rule_id" not in entries["portal"].data and "rule_name" not in entries["portal"].data
    assert entries["portal"].action_id == "a2" and entries["portal"].contact_id == "c-jan"


def test_a_phase_change_by_a_rule_names_the_rule_for_staff_only():
    entries = by_audience(
        build_entries(
            ev.phase_changed("t1", "task-1", "Waiting for approval", "Approved", rule_name="Approve on signing")
        )
    )
    assert entries["staff"].summary == (
        "Phase changed from Waiting for approval to Approved by rule 'Approve on signing'"
    )
    assert entries["portal"].summary == "Phase changed from Waiting for approval to Approved"
    assert entries["portal"].contact_id is None and entries["portal"].actor == {"kind": "rule", "name": None}


def test_a_phase_change_by_staff_names_the_key_when_the_event_carries_only_its_id():
    changed = ev.phase_changed("t1", "task-1", "New", "Waiting for approval")
    changed = changed.model_copy(update={"actor": changed.actor.model_copy(update={"name": None})})
    entries = by_audience(build_entries(changed, Known(staff_name="Els (office)")))
    assert entries["staff"].summary == "Phase changed from New to Waiting for approval by Els (office)"
    assert entries["staff"].actor["name"] == "Els (office)"
    assert entries["portal"].summary == "Phase changed from New to Waiting for approval"


def test_a_decline_names_the_contact_who_declined_whatever_the_projection_has_read_so_far():
    declined = ev.declined("t1", "task-1", "a1", JAN)
    assert by_audience(build_entries(declined))["portal"].summary == "Declined by Jan: Not finished"
    # Without a contact actor on the event, the name comes from the request the projection learned
    by_system = declined.model_copy(update={"actor": SYSTEM})
    known = Known(action=KnownAction("a1", "c-jan", "Jan", "sign_task"))
    assert by_audience(build_entries(by_system, known))["staff"].summary == "Declined by Jan: Not finished"
    assert by_audience(build_entries(by_system))["staff"].summary == "Declined by the contact: Not finished"


def test_a_refused_decline_shows_as_refused_in_both_timelines_and_tasks_acceptance_adds_no_entry_of_its_own():
    declined = ev.declined("t1", "task-1", "a1", JAN)
    refused = m.DeclineRejected(
        tenant_id="t1",
        task_id="task-1",
        payload=m.DeclineRejectedPayload(
            action_id="a1",
            contact_id="c-jan",
            kind="sign_task",
            declined_event_id=declined.event_id,
            action_status="cancelled",
            reason="action a1 is cancelled, not open",
        ),
    )
    known = Known(action=KnownAction("a1", "c-jan", "Jan", "sign_task"))
    entries = by_audience(build_entries(refused, known))
    assert set(entries) == {"staff", "portal"}
    assert entries["staff"].summary == "Decline of Jan refused: the request was cancelled before it was declined"
    accepted = m.TaskActionDeclined(
        tenant_id="t1",
        task_id="task-1",
        payload=m.TaskActionDeclinedPayload(
            action_id="a1", contact_id="c-jan", kind="sign_task", declined_event_id=declined.event_id, decline=declined
        ),
    )
    assert build_entries(accepted) == []  # "Declined by" comes from the decline it carries


def test_task_creation_and_evidence_records_are_staff_only():
    assert [e.audience for e in build_entries(ev.task_created("t1", "task-1"))] == ["staff"]


def test_a_stamped_document_shows_the_rendering_of_the_signed_page_to_the_signer():
    known = Known(action=KnownAction("a1", "c-jan", "Jan", "sign_document", "doc-1"))
    entries = by_audience(build_entries(ev.stamped("t1", "task-1", "a1"), known))
    assert entries["portal"].summary == "Rendering of the signed document"
    assert entries["portal"].data["preview_url"].endswith("1.png") and "digest" not in entries["portal"].data
    assert entries["portal"].contact_id == "c-jan" and entries["staff"].data["digest"]


def test_a_sealed_certificate_links_to_its_pdf():
    entries = by_audience(build_entries(ev.sealed("t1", "task-1", "a1")))
    assert entries["staff"].summary == "Approval certificate sealed"
    assert entries["portal"].data["pdf_url"].endswith("pdf-1") and entries["portal"].action_id == "a1"


def test_tenant_level_events_add_no_entries():
    assert all(build_entries(e) == [] for e in ev.tenant("t1", "secret"))


def test_entry_times_keep_milliseconds_so_they_round_trip_through_the_database():
    signed = ev.task_signed("t1", "task-1", "a1", JAN)
    assert all(e.at.microsecond % 1000 == 0 for e in build_entries(signed))


def test_reminders_are_for_staff_and_expiries_reach_the_contact_too():
    known = Known(action=KnownAction("a1", "c-jan", "Jan", "sign_task"))
    reminder = m.ActionReminderDue(
        tenant_id="t1",
        task_id="task-1",
        payload=m.ReminderDuePayload(action_id="a1", contact_id="c-jan", reminder_number=2),
    )
    expired = m.ActionExpired(
        tenant_id="t1", task_id="task-1", payload=m.ActionRefPayload(action_id="a1", contact_id="c-jan")
    )
    assert [(e.audience, e.summary) for e in build_entries(reminder, known)] == [("staff", "Reminder 2 sent to Jan")]
    assert {e.audience: e.summary for e in build_entries(expired, known)} == {
        "staff": "Signature request to Jan expired",
        "portal": "Signature request to Jan expired",
    }
