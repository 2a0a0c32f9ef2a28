"""The portal's rules: complete submissions, consent, signature images by magic bytes, who may act, CSRF."""

from __future__ import annotations

import base64
from datetime import UTC, datetime, timedelta

import pytest

from contracts.errors import Conflict, Forbidden, Invalid, NotFound
from contracts.models import FieldSpec
from services.portal import domain
from services.portal.domain import SessionContext

CTX = SessionContext(session_id="s1", tenant_id="t1", contact_id="c1", csrf_token="tok", language="en")
SPECS = [
    FieldSpec(name="approved_by", label="Approved by"),
    FieldSpec(name="remarks", label="Remarks", required=False),
    FieldSpec(name="agree", label="Agree", type="checkbox"),
]
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 20


def action(**overrides) -> dict:
    return {"tenant_id": "t1", "contact_id": "c1", "status": "open", "kind": "sign_task", **overrides}


def test_every_missing_or_blank_required_field_is_named():
    with pytest.raises(Invalid) as refused:
        domain.clean_fields(SPECS, {"approved_by": "   ", "agree": False})
    assert [e["field"] for e in refused.value.extra["errors"]] == ["fields.approved_by", "fields.agree"]


def test_complete_fields_are_trimmed_and_unknown_ones_dropped():
    cleaned = domain.clean_fields(SPECS, {"approved_by": " Jan ", "agree": "on", "injected": "x"})
    assert cleaned == {"approved_by": "Jan", "remarks": None, "agree": True}


def test_consent_must_be_explicitly_true():
    with pytest.raises(Invalid):
        domain.require_consent(False)
    domain.require_consent(True)


@pytest.mark.parametrize(
    "encoded, message",
    [
        ("", "empty"),
        ("   ", "empty"),
        ("not base64!!", "base64"),
        (base64.b64encode(b"GIF89a....").decode(), "PNG or JPEG"),
        (base64.b64encode(b"<svg onload=alert(1)>").decode(), "PNG or JPEG"),
    ],
)
def test_a_signature_that_is_empty_or_not_an_image_is_refused(encoded, message):
    with pytest.raises(Invalid) as refused:
        domain.decode_signature_image(encoded, 1024)
    assert message in refused.value.detail
    assert refused.value.extra["errors"][0]["field"] == "signature"


def test_a_signature_larger_than_the_limit_is_refused():
    with pytest.raises(Invalid, match="larger than"):
        domain.decode_signature_image(base64.b64encode(PNG + b"\x00" * 2048).decode(), 1024)


def test_png_and_jpeg_are_recognised_by_their_magic_bytes_also_in_a_data_url():
    assert domain.decode_signature_image(base64.b64encode(PNG).decode(), 1024) == (PNG, "image/png")
    jpeg = b"\xff\xd8\xff\xe0" + b"\x00" * 10
    assert (
        domain.decode_signature_image("data:image/jpeg;base64," + base64.b64encode(jpeg).decode(), 1024)[1]
        == "image/jpeg"
    )


def test_someone_elses_action_is_not_found():
    for other in (None, action(contact_id="c2"), action(tenant_id="t2")):
        with pytest.raises(NotFound):
            domain.ensure_actionable(other, CTX)


def test_a_signed_cancelled_or_expired_action_is_a_conflict_that_says_why():
    with pytest.raises(Conflict, match="already signed"):
        domain.ensure_actionable(action(status="completed"), CTX)
    with pytest.raises(Conflict, match="cancelled by the sender") as cancelled:
        domain.ensure_actionable(action(status="cancelled"), CTX)
    assert cancelled.value.extra["code"] == "cancelled"
    past = datetime.now(UTC) - timedelta(minutes=1)
    for expired in (action(expires_at=past), action(status="expired")):
        with pytest.raises(Conflict, match="expired") as refused:
            domain.ensure_actionable(expired, CTX)
        assert refused.value.extra["code"] == "expired"


def test_a_document_is_signed_only_at_the_pinned_digest():
    doc = action(kind="sign_document", document_digest="a" * 64)
    with pytest.raises(Invalid):
        domain.ensure_document_unchanged(doc, None)
    with pytest.raises(Conflict, match="document changed"):
        domain.ensure_document_unchanged(doc, "b" * 64)
    domain.ensure_document_unchanged(doc, "a" * 64)
    domain.ensure_document_unchanged(action(), None)


def test_csrf_token_must_match_exactly():
    assert domain.csrf_matches("tok", "tok")
    assert not domain.csrf_matches("tok", None)
    assert not domain.csrf_matches("tok", "")
    assert not domain.csrf_matches("tok", "tok2")


def test_a_decline_needs_a_reason():
    with pytest.raises(Invalid):
        domain.clean_reason("  ")
    assert domain.clean_reason(" Not done ") == "Not done"


def test_a_changed_consent_text_must_be_read_again():
    with pytest.raises(Conflict, match="consent text changed"):
        domain.ensure_consent_current("1999-old")
    domain.ensure_consent_current(domain.CONSENT_VERSION)
    domain.ensure_consent_current(None)


def test_a_one_time_code_works_only_for_its_session_and_before_it_expires():
    now = datetime.now(UTC)
    code = domain.new_otp_code()
    pending = {"hash": domain.otp_hash("s1", code), "expires_at": now + timedelta(minutes=10)}
    domain.check_otp(pending, "s1", code, now)
    domain.check_otp(pending, "s1", f" {code[:3]} {code[3:]} ", now)  # spaces as people type them
    with pytest.raises(Invalid, match="not right"):
        domain.check_otp(pending, "s2", code, now)
    with pytest.raises(Invalid, match="expired"):
        domain.check_otp(pending, "s1", code, now + timedelta(minutes=11))
    with pytest.raises(Invalid, match="first"):
        domain.check_otp(None, "s1", code, now)


def test_signing_waits_for_the_second_factor_when_the_tenant_asks_for_it():
    with pytest.raises(Forbidden):
        domain.ensure_second_factor(True, CTX)
    domain.ensure_second_factor(False, CTX)
    domain.ensure_second_factor(True, SessionContext(**{**CTX.__dict__, "auth_method": "magic_link+otp"}))
    assert domain.mask_email("jan@example.nl") == "j***@example.nl"
