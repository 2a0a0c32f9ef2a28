"""The evidence record of a signing, built from the signed event alone."""

from __future__ import annotations

from contracts import utcnow
from services.signing.domain import (
    evidence_from_signed,
    evidence_id_for,
    evidence_id_from_reason,
    seal_id_for,
    seal_reason,
)
from tests.support.signed_events import a_document_signed, a_signature_png, a_task_signed


def test_a_task_signing_becomes_an_evidence_record_with_everything_a_judge_asks_for():
    png = a_signature_png()
    signed = a_task_signed("tenant-1", "http://portal/internal/v1/signatures/s1", png)
    record = evidence_from_signed(signed, utcnow())
    assert record.kind == "sign_task" and record.document is None
    assert record.tenant_id == "tenant-1" and record.task_id == signed.task_id
    assert record.signer.email == "jan@example.com" and record.auth_method == "magic_link"
    assert record.ip == "203.0.113.7" and record.user_agent.startswith("Mozilla")
    assert record.consent_version == "2026-01" and record.fields["po_number"] == "PO-77"
    assert record.signature.image_digest == signed.payload.signature.image_digest
    assert record.signed_event_id == signed.event_id


def test_a_document_signing_records_the_digest_that_was_signed():
    signed = a_document_signed("t", "http://x", a_signature_png(), "doc-1", "ver-1", "cd" * 32)
    record = evidence_from_signed(signed, utcnow())
    assert record.kind == "sign_document"
    assert (record.document.document_id, record.document.digest_before) == ("doc-1", "cd" * 32)


def test_one_action_has_one_evidence_id_whichever_copy_of_the_event_arrives():
    signed = a_task_signed("t", "http://x", a_signature_png())
    again = signed.model_copy(update={"event_id": "another"})
    assert evidence_from_signed(signed, utcnow()).evidence_id == evidence_from_signed(again, utcnow()).evidence_id
    assert evidence_id_for("t", "a") != evidence_id_for("other-tenant", "a")


def test_each_kind_of_seal_has_its_own_stable_id():
    assert seal_id_for("e", "approval_certificate") == seal_id_for("e", "approval_certificate")
    assert seal_id_for("e", "approval_certificate") != seal_id_for("e", "sealed_document")


def test_the_evidence_id_is_read_back_from_the_seal_reason():
    assert evidence_id_from_reason(seal_reason("abc")) == "abc"
    assert evidence_id_from_reason("Approved by someone") is None
    assert evidence_id_from_reason(None) is None
