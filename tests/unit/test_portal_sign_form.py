"""The signing form's choice of signature: drawn, typed or uploaded, from what the page posted."""

from __future__ import annotations

from contracts.errors import Invalid
from contracts.models import FieldSpec
from services.portal import i18n
from services.portal.domain import clean_fields, clean_reason
from services.portal.entrypoints.page_errors import form_errors
from services.portal.entrypoints.sign_form import autocomplete, drawing_to_show_again, signature_choice

DRAWN = "data:image/png;base64,iVBORw0KGgo="


def test_a_drawing_is_signed_as_drawn_with_its_png_data_url():
    choice = signature_choice("drawn", DRAWN, None, "Jan")
    assert (choice.kind, choice.png_base64) == ("drawn", DRAWN)


def test_an_empty_canvas_is_a_drawn_signature_without_an_image_for_the_shared_validation_to_refuse():
    assert signature_choice("drawn", "  ", None, "").png_base64 is None
    assert signature_choice("drawn", None, "aGk=", "Jan").png_base64 is None  # a stray file does not stand in


def test_a_typed_name_ignores_a_file_chosen_alongside_it():
    choice = signature_choice("typed", None, "aGk=", "Jan de Vries")
    assert (choice.kind, choice.png_base64, choice.typed_name) == ("typed", None, "Jan de Vries")


def test_without_script_a_picture_sent_with_no_name_typed_is_the_upload_meant():
    assert signature_choice("typed", "", "aGk=", " ").kind == "uploaded"


def test_an_upload_chosen_without_a_file_is_an_upload_without_an_image():
    choice = signature_choice("uploaded", None, None, "Jan")
    assert (choice.kind, choice.png_base64) == ("uploaded", None)


def test_a_form_without_the_choice_keeps_the_old_rule_a_picture_wins_over_a_name():
    assert signature_choice(None, None, "aGk=", "Jan").kind == "uploaded"
    assert signature_choice(None, None, None, "Jan").kind == "typed"
    assert signature_choice("scribbled", None, None, "Jan").kind == "typed"


def test_a_valid_drawing_is_shown_again_only_when_another_field_was_wrong():
    drawn = signature_choice("drawn", DRAWN, None, "")
    assert drawing_to_show_again(drawn, {"consent": "tick it"}) == DRAWN
    assert drawing_to_show_again(drawn, {"signature": "empty"}) == ""
    assert drawing_to_show_again(signature_choice("drawn", "data:text/html,<b>", None, ""), {}) == ""
    assert drawing_to_show_again(signature_choice("typed", None, None, "Jan"), {}) == ""


def test_an_empty_drawing_is_worded_as_a_drawing_to_make_in_both_languages():
    refused = Invalid("empty", errors=[{"field": "signature", "message": "The signature is empty."}])
    for language in ("en", "nl"):
        errors = form_errors(refused, {"fields": []}, language, "drawn")
        assert errors == {"signature": i18n.messages(language)["signature_draw_required"]}
    assert form_errors(refused, {"fields": []}, "en", "uploaded")["signature"].startswith("This picture cannot")


def refusal_of(check, *args) -> Invalid:
    try:
        check(*args)
    except Invalid as refused:
        return refused
    raise AssertionError("not refused")


def test_a_field_error_is_worded_by_its_code_whatever_the_english_message_says():
    refused = refusal_of(
        clean_fields, [FieldSpec(name="remarks", label="Opmerkingen", required=True)], {"remarks": "x" * 5000}
    )
    refused.extra["errors"][0]["message"] = "something else entirely"
    assert form_errors(refused, {"fields": [{"name": "remarks", "label": "Opmerkingen"}]}, "nl") == {
        "remarks": "Opmerkingen is te lang"
    }


def test_a_reason_that_is_too_long_is_not_called_missing():
    refused = refusal_of(clean_reason, "x" * 5000)
    for language in ("en", "nl"):
        assert form_errors(refused, {"fields": []}, language) == {"reason": i18n.messages(language)["reason_too_long"]}


def test_browsers_may_fill_in_name_email_and_phone_fields_by_their_name_or_label():
    purposes = [
        autocomplete({"name": name, "label": label})
        for name, label in (
            ("full_name", "Naam"),
            ("x1", "Name"),
            ("email", "E-mailadres"),
            ("x2", "Email address"),
            ("phone", "Telefoon"),
            ("x3", "Mobile number"),
            ("company", "Bedrijfsnaam"),
            ("remarks", "Opmerkingen"),
        )
    ]
    assert purposes == ["name", "name", "email", "email", "tel", "tel", None, None]


def test_the_error_summary_lists_problems_in_the_order_the_form_asks_them():
    refused = Invalid(
        "x",
        errors=[
            {"field": "consent", "message": "required"},
            {"field": "signature", "message": "empty"},
            {"field": "fields.b", "message": "required"},
            {"field": "fields.a", "message": "required"},
        ],
    )
    action = {"fields": [{"name": "a", "label": "A"}, {"name": "b", "label": "B"}]}
    assert list(form_errors(refused, action, "en")) == ["a", "b", "signature", "consent"]
