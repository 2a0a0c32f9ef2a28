"""Approval certificates, PAdES seals and their verification, with a freshly generated key."""

from __future__ import annotations

import io

import pypdfium2 as pdfium
import pytest
from pypdf import PdfReader

from contracts import utcnow
from services.signing.adapters.certificate import append_pdf, approval_certificate, evidence_page
from services.signing.adapters.keys import generate_development_key, load_configured_key
from services.signing.adapters.seal import check_pdf, seal_pdf
from services.signing.config import Settings
from services.signing.domain import evidence_from_signed
from tests.support.seals import KEY, TRUSTED, an_evidence_record
from tests.support.signed_events import a_document_signed, a_signature_png


def test_the_approval_certificate_shows_the_task_fields_signature_and_evidence():
    # (the signer of these events reads Dutch, the default)
    evidence = an_evidence_record()
    pdf = approval_certificate(evidence, a_signature_png())
    document = pdfium.PdfDocument(pdf)
    text = "".join(document[i].get_textpage().get_text_bounded() for i in range(len(document)))
    for expected in (
        "Goedkeuringsbewijs",
        "Repaint the hallway",
        "Two coats, white.",
        "Waiting for approval",
        "PO-77",
        "jan@example.com",
        "203.0.113.7",
        "magic_link",
        "2026-01",
        evidence.evidence_id,
        evidence.signature.image_digest,
    ):
        assert "".join(expected.split()) in "".join(text.split()), expected  # long digests wrap
    assert any(o.type == pdfium.raw.FPDF_PAGEOBJ_IMAGE for o in document[0].get_objects())


def test_the_evidence_page_of_a_document_names_both_digests():
    signed = a_document_signed("t", "http://x", a_signature_png(), "doc-1", "ver-1", "cd" * 32)
    evidence = evidence_from_signed(signed, utcnow())
    evidence = evidence.model_copy(
        update={"document": evidence.document.model_copy(update={"digest_after": "ef" * 32})}
    )
    page = evidence_page(evidence, None)
    combined = append_pdf(approval_certificate(an_evidence_record(), None), page)
    assert len(PdfReader(io.BytesIO(combined)).pages) >= 2
    text = "".join(pdfium.PdfDocument(page)[0].get_textpage().get_text_bounded().split())
    assert "cd" * 32 in text and "ef" * 32 in text


def test_a_sealed_pdf_verifies_as_ours_intact_and_whole():
    sealed = seal_pdf(approval_certificate(an_evidence_record(), a_signature_png()), KEY, "evidence-1")
    check = check_pdf(sealed, KEY, TRUSTED)
    assert (check.sealed, check.akkoord_seal, check.intact, check.valid, check.covers_whole_file) == (
        True,
        True,
        True,
        True,
        True,
    )
    assert check.evidence_id == "evidence-1"


def test_any_changed_byte_inside_the_signed_range_is_detected():
    sealed = seal_pdf(approval_certificate(an_evidence_record(), None), KEY, "evidence-1")
    at = sealed.index(b"stream") + 30
    tampered = sealed[:at] + bytes([sealed[at] ^ 0x01]) + sealed[at + 1 :]
    check = check_pdf(tampered, KEY, TRUSTED)
    assert not (check.intact and check.valid)


def test_content_added_after_the_seal_is_reported():
    sealed = seal_pdf(approval_certificate(an_evidence_record(), None), KEY, "evidence-1")
    check = check_pdf(sealed + b"\n1 0 obj\n(appended)\nendobj\n", KEY, TRUSTED)
    assert check.intact and not check.covers_whole_file


def test_a_seal_made_with_someone_elses_key_is_not_akkoords():
    stranger = generate_development_key()
    sealed = seal_pdf(approval_certificate(an_evidence_record(), None), stranger, "evidence-1")
    check = check_pdf(sealed, KEY, TRUSTED)
    assert check.sealed and not check.akkoord_seal


def test_garbage_is_reported_not_raised():
    assert check_pdf(b"not a pdf at all", KEY, TRUSTED).sealed is False


def test_production_without_key_material_refuses_to_start(monkeypatch):
    monkeypatch.setenv("AKKOORD_ENV", "production")
    monkeypatch.setenv("AKKOORD_INTERNAL_TOKEN", "x" * 40)
    with pytest.raises(ValueError, match="SIGNING_SEAL"):
        Settings()


def test_a_configured_development_key_is_recognised_as_one(tmp_path):
    (tmp_path / "key.pem").write_bytes(KEY.key_pem)
    (tmp_path / "cert.pem").write_bytes(KEY.cert_pem)
    settings = Settings(seal_key_path=tmp_path / "key.pem", seal_cert_path=tmp_path / "cert.pem")
    loaded = load_configured_key(settings)
    assert loaded.development and loaded.fingerprint == KEY.fingerprint
    assert "PRIVATE KEY" not in repr(loaded)  # the private key never shows up in logs


async def test_production_refuses_to_seal_with_a_development_key(tmp_path, monkeypatch):
    from services.signing.adapters.keys import SealKeys

    (tmp_path / "key.pem").write_bytes(KEY.key_pem)
    (tmp_path / "cert.pem").write_bytes(KEY.cert_pem)
    monkeypatch.setenv("AKKOORD_ENV", "production")
    monkeypatch.setenv("AKKOORD_INTERNAL_TOKEN", "x" * 40)
    settings = Settings(seal_key_path=tmp_path / "key.pem", seal_cert_path=tmp_path / "cert.pem")
    with pytest.raises(RuntimeError, match="development key"):
        await SealKeys(db={"seal_keys": None}, settings=settings).load()


def test_production_key_material_loads_from_a_pkcs12_file(tmp_path):
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.hazmat.primitives.serialization import BestAvailableEncryption, pkcs12

    from services.signing.adapters.issuing import distinguished_name, issue

    key = ec.generate_private_key(ec.SECP256R1())
    cert = issue(
        distinguished_name("Acme seal"),
        key,
        not_before=utcnow().replace(year=2025),
        not_after=utcnow().replace(year=2035),
        serial=1,
    )
    (tmp_path / "seal.p12").write_bytes(
        pkcs12.serialize_key_and_certificates(b"seal", key, cert, None, BestAvailableEncryption(b"pw"))
    )
    loaded = load_configured_key(Settings(seal_pkcs12_path=tmp_path / "seal.p12", seal_pkcs12_password="pw"))
    assert not loaded.development
    sealed = seal_pdf(approval_certificate(an_evidence_record(), None), loaded, "evidence-9")
    check = check_pdf(sealed, loaded, {loaded.fingerprint})
    assert check.akkoord_seal and check.valid and check.evidence_id == "evidence-9"


def test_the_certificate_names_the_timeline_head_it_is_anchored_to():
    from services.signing.domain import TimelineAnchor

    evidence = an_evidence_record().model_copy(update={"timeline_anchor": TimelineAnchor(seq=7, hash="9f" * 32)})
    document = pdfium.PdfDocument(approval_certificate(evidence, None))
    text = "".join("".join(document[i].get_textpage().get_text_bounded().split()) for i in range(len(document)))
    assert "#7" in text and "9f" * 32 in text


def test_the_settings_never_show_the_key_passwords():
    settings = Settings(seal_pkcs12_password="p12-secret-value", seal_key_password="pem-secret-value")
    for shown in (repr(settings), str(settings)):
        assert "p12-secret-value" not in shown and "pem-secret-value" not in shown
