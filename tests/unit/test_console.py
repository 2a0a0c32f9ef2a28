"""The console's pure parts: staff links instead of internal URLs, sessions' limits, throttling, the action form."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from starlette.datastructures import FormData

from contracts.errors import Invalid
from contracts.messages import BY_TYPE, topic_of
from services.automation.webhooks import SUBSCRIBABLE
from services.tasks.branding import logo_type, require_colour
from services.tasks.entrypoints.console.render import when
from services.tasks.entrypoints.console.settings_pages import WEBHOOK_EVENTS
from services.tasks.entrypoints.console.task_pages import field_name, signature_request
from services.tasks.staff_users import ConsoleSession, require_password
from services.timeline.staff_links import for_staff

NOW = datetime(2026, 12, 6, 12, 0, tzinfo=UTC)


def entry(kind: str, data: dict) -> dict:
    return {"id": "e1", "kind": kind, "data": data}


def test_a_stamped_entry_links_the_documents_staff_api_and_keeps_no_internal_url():
    internal = "http://documents:8003/internal/v1/documents/d1/versions/v2/{}?tenant_id=t1"
    shown = for_staff(
        entry(
            "document.stamped",
            {
                "document_id": "d1",
                "version_id": "v2",
                "pdf_url": internal.format("pdf"),
                "preview_url": internal.format("pages/3.png"),
            },
        )
    )
    assert shown["links"] == [
        {"rel": "stamped_pdf", "service": "documents", "path": "/v1/documents/d1/versions/v2/pdf"},
        {"rel": "signed_page", "service": "documents", "path": "/v1/documents/d1/versions/v2/pages/3.png"},
    ]
    assert "internal" not in str(shown) and "tenant_id" not in str(shown)


def test_a_sealed_entry_links_signings_staff_download_by_kind():
    shown = for_staff(
        entry(
            "signature.sealed",
            {
                "kind": "approval_certificate",
                "pdf_id": "p1",
                "pdf_url": "http://signing/internal/v1/sealed-pdfs/p1?tenant_id=t",
            },
        )
    )
    assert shown["links"] == [{"rel": "approval_certificate", "service": "signing", "path": "/v1/sealed-pdfs/p1"}]
    assert "pdf_url" not in shown["data"]


def test_a_signature_image_url_inside_a_signed_entry_is_dropped():
    shown = for_staff(
        entry("task.signed", {"signature": {"kind": "drawn", "image_url": "http://portal/internal/v1/signatures/s"}})
    )
    assert shown["data"]["signature"] == {"kind": "drawn"} and shown["links"] == []


def test_a_session_ends_when_idle_too_long_or_too_old():
    session = ConsoleSession(id="h", user_id="u", tenant_id="t", csrf_token="c", created_at=NOW, seen_at=NOW)
    idle, absolute = timedelta(minutes=30), timedelta(hours=12)
    assert not session.expired(NOW + timedelta(minutes=29), idle, absolute)
    assert session.expired(NOW + timedelta(minutes=31), idle, absolute)
    busy = session.model_copy(update={"seen_at": NOW + timedelta(hours=12)})
    assert busy.expired(NOW + timedelta(hours=12, minutes=1), idle, absolute)


def test_a_short_password_is_refused():
    with pytest.raises(Invalid):
        require_password("too short")


def test_field_names_come_from_their_labels_and_stay_unique():
    taken: set[str] = set()
    assert [field_name(label, taken) for label in ("Naam klant", "Naam klant", "Één datum", "1e keuze")] == [
        "naam_klant",
        "naam_klant_2",
        "een_datum",
        "f_1e_keuze",
    ]


def test_the_action_form_becomes_the_same_command_as_the_api_with_required_fields_by_row():
    form = FormData(
        [
            ("kind", "sign_task"),
            ("contact_id", "c1"),
            ("field_label", "Naam"),
            ("field_required", "0"),
            ("field_label", ""),
            ("field_label", "Opmerking"),
            ("expires_at", "2026-12-24"),
            ("remind_days_before", "2"),
        ]
    )
    command = signature_request(form)
    assert [(f.name, f.required) for f in command.fields] == [("naam", True), ("opmerking", False)]
    assert command.expires_at.date().isoformat() == "2026-12-24"
    assert command.remind_at == [command.expires_at - timedelta(days=2)]


def test_sign_document_without_a_document_is_refused_and_none_means_no_action():
    with pytest.raises(Invalid):
        signature_request(FormData([("kind", "sign_document"), ("contact_id", "c1")]))
    assert signature_request(FormData([("kind", "none")])) is None


def test_a_brand_colour_must_keep_white_text_readable():
    assert require_colour("#0B57D0") == "#0b57d0"
    with pytest.raises(Invalid):
        require_colour("#ffcc00")
    with pytest.raises(Invalid):
        require_colour("blue")


def test_a_logo_is_a_small_png_or_jpeg():
    assert logo_type(b"\x89PNG\r\n\x1a\n" + b"0" * 10) == "image/png"
    assert logo_type(b"\xff\xd8\xff\xe0" + b"0" * 10) == "image/jpeg"
    with pytest.raises(Invalid):
        logo_type(b"<svg onload=alert(1)>")
    with pytest.raises(Invalid):
        logo_type(b"\x89PNG\r\n\x1a\n" + b"0" * 300_000)


def test_the_contact_is_mailed_unless_staff_untick_the_box():
    base = [("kind", "sign_task"), ("contact_id", "c1")]
    assert signature_request(FormData(base)).notify is True
    assert signature_request(FormData([*base, ("notify_shown", "1")])).notify is False
    assert signature_request(FormData([*base, ("notify_shown", "1"), ("notify", "1")])).notify is True


def test_the_timeline_speaks_the_users_language_and_falls_back_to_timelines_words():
    from services.tasks.entrypoints.console.render import catalogue
    from services.tasks.entrypoints.console.timeline_words import summary

    changed = {
        "kind": "task.phase_changed",
        "summary": "Phase changed",
        "data": {"from_phase": "Waiting for approval", "to_phase": "Approved", "rule_name": "Approve"},
    }
    assert summary(changed, catalogue("nl"), {}) == (
        "Fase gewijzigd van Waiting for approval naar Approved door regel ‘Approve’"
    )
    assert summary(changed, catalogue("en"), {}) == (
        "Phase changed from Waiting for approval to Approved by rule 'Approve'"
    )
    declined = {"kind": "action.declined", "summary": "x", "contact_id": "c1", "data": {"reason": "Te duur"}}
    assert summary(declined, catalogue("nl"), {"c1": "Jan"}) == "Geweigerd door Jan: Te duur"
    assert (
        summary({"kind": "something.new", "summary": "As timeline said", "data": {}}, catalogue("nl"), {})
        == "As timeline said"
    )
    assert summary({"kind": "task.signed", "summary": "Signed", "data": {}}, catalogue("nl"), {}) == "Signed"


def test_a_refused_decline_reads_as_refused_in_the_users_language():
    from services.tasks.entrypoints.console.render import catalogue
    from services.tasks.entrypoints.console.timeline_words import summary

    refused = {
        "kind": "decline.rejected",
        "summary": "x",
        "contact_id": "c1",
        "data": {"action_status": "cancelled", "reason": "action a1 is no longer open"},
    }
    assert summary(refused, catalogue("nl"), {"c1": "Jan"}) == (
        "Weigering van Jan niet aanvaard: het verzoek was al geannuleerd voordat het werd geweigerd"
    )
    assert summary(refused, catalogue("en"), {"c1": "Jan"}) == (
        "Decline of Jan refused: the request was cancelled before it was declined"
    )


def test_the_webhook_form_offers_every_event_type_automation_accepts_refusals_included():
    # given the types automation lets a webhook subscribe to
    # when the console's settings page lists its choices
    offered = [t for _topic, types in WEBHOOK_EVENTS for t in types]
    # then it offers exactly those, once each, grouped by the topic each travels on
    assert sorted(offered) == sorted(SUBSCRIBABLE) and len(offered) == len(set(offered))
    assert {"signing.rejected", "decline.rejected"} <= set(offered)
    assert all(topic_of(BY_TYPE[t]) == topic for topic, types in WEBHOOK_EVENTS for t in types)


def test_the_action_forms_deadline_is_the_end_of_that_day_in_the_tenants_zone_and_moments_show_in_it():
    tokyo = ZoneInfo("Asia/Tokyo")
    form = FormData([("kind", "sign_task"), ("contact_id", "c1"), ("expires_at", "2030-01-15")])
    # 23:59 in Tokyo is 14:59 UTC; in the default zone (Amsterdam) it would be 22:59 UTC
    assert signature_request(form, tokyo).expires_at == datetime(2030, 1, 15, 14, 59, tzinfo=UTC)
    assert signature_request(form).expires_at == datetime(2030, 1, 15, 22, 59, tzinfo=UTC)
    assert when(datetime(2030, 1, 15, 12, 0, tzinfo=UTC), "en", tokyo) == "15 Jan 2030, 21:00 JST"
    assert when("2030-01-15T12:00:00Z", "nl") == "15 jan 2030 13:00 CET"
