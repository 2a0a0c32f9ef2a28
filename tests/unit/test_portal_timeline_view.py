"""Portal timeline entries and times as the task page shows them: in the contact's language."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from services.portal.entrypoints.timeline_view import present
from services.portal.i18n import format_datetime, lang_attribute


def test_a_signing_shows_the_filled_in_fields_in_dutch():
    item = present(
        {
            "kind": "task.signed",
            "at": "2026-11-30T10:00:00+00:00",
            "summary": "Signed by Jan",
            "data": {"action_id": "a1", "fields": {"approved_by": "Jan", "remarks": None}},
        },
        "nl",
        {"a1": {"approved_by": "Goedgekeurd door"}},
    )
    assert item.title == "U heeft ondertekend"
    assert item.details == [("Goedgekeurd door", "Jan")]


def test_a_phase_change_names_the_new_phase():
    item = present({"kind": "task.phase_changed", "data": {"to_phase": "Approved"}}, "en")
    assert item.title == "Phase changed to Approved"


def test_artefacts_are_linked_through_the_portal_never_by_their_internal_address():
    stamped = present(
        {
            "kind": "document.stamped",
            "data": {
                "action_id": "a1",
                "preview_url": "http://documents:8003/internal/x",
                "pdf_url": "http://documents/y",
            },
        },
        "en",
    )
    sealed = present(
        {
            "kind": "signature.sealed",
            "data": {"action_id": "a1", "kind": "approval_certificate", "pdf_url": "http://signing:8002/internal/z"},
        },
        "en",
    )
    assert stamped.image[0] == "/actions/a1/signed-page.png"
    assert stamped.link[0] == "/actions/a1/signed-document.pdf"
    assert sealed.link[0] == "/actions/a1/sealed/approval_certificate.pdf"


def test_a_refused_decline_reads_as_not_accepted_rather_than_as_a_decline():
    refused = {"kind": "decline.rejected", "summary": "Decline of Jan refused", "data": {"action_id": "a1"}}
    assert present(refused, "en").title == "Your decline was not accepted: the request was no longer open"
    assert present(refused, "nl").title == "Uw weigering is niet aanvaard: het verzoek stond niet meer open"


def test_an_unknown_kind_falls_back_to_the_timelines_summary():
    assert present({"kind": "something.new", "summary": "Something new"}, "nl").title == "Something new"


def test_times_are_shown_in_the_contacts_words_and_the_display_zone():
    at = "2026-11-30T14:05:00+00:00"
    assert format_datetime(at, "nl", ZoneInfo("Europe/Amsterdam")) == "30 november 2026 15:05 CET"
    assert format_datetime(at, "en") == "30 November 2026, 14:05 UTC"


def test_a_phase_every_tenant_starts_with_is_named_in_the_contacts_language_and_its_own_as_written():
    assert (
        present({"kind": "task.phase_changed", "data": {"to_phase": "Approved"}}, "nl").title
        == "Fase gewijzigd naar Goedgekeurd"
    )
    assert (
        present({"kind": "task.phase_changed", "data": {"to_phase": "Klaar voor oplevering"}}, "en").title
        == "Phase changed to Klaar voor oplevering"
    )


def test_the_signed_page_names_its_action_so_the_page_can_add_its_text():
    stamped = present({"kind": "document.stamped", "data": {"action_id": "a1", "preview_url": "x"}}, "nl")
    assert stamped.action_id == "a1" and stamped.text == ""


def test_staff_text_in_another_language_than_the_page_is_marked_with_it_and_only_then():
    assert lang_attribute("nl", "en") == ' lang="nl"'
    assert lang_attribute("en", "en") == "" and lang_attribute(None, "nl") == "" and lang_attribute("fr", "nl") == ""


def test_a_requests_message_in_the_timeline_keeps_the_language_staff_wrote_it_in():
    item = present(
        {"kind": "task.action_requested", "data": {"action_id": "a1", "message": "Graag goedkeuren"}},
        "en",
        written_in={"a1": "nl"},
    )
    assert item.details == [("", "Graag goedkeuren")] and item.written_in == "nl"
