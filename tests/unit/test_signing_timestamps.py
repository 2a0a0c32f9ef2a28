"""Seals with an RFC 3161 timestamp authority (PAdES B-T), against a real TSA over HTTP on loopback."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from deploy.local.infra import free_port
from services.runtime.consumer import is_outage
from services.signing.adapters.certificate import approval_certificate
from services.signing.adapters.seal import Sealer, TimestampAuthorityUnavailable, check_pdf
from tests.support.pdf_tools import run
from tests.support.seals import KEY, TRUSTED, an_evidence_record, signature_timestamp_of
from tests.support.tsa import TSA_NAME, LoopbackTsa, asn1_certificate


def test_a_seal_with_a_timestamp_authority_carries_its_valid_signature_timestamp(tmp_path):
    with LoopbackTsa() as tsa:
        # given a sealer configured with a TSA
        sealer = Sealer(KEY, tsa.url)
        before = datetime.now(UTC)

        # when it seals an approval certificate
        sealed = sealer.seal(approval_certificate(an_evidence_record(), None), "evidence-ts")

    # then the one PAdES seal covers the whole file and carries a signature timestamp token (B-T)
    embedded, status = signature_timestamp_of(sealed, KEY.cert_pem, tsa)
    assert embedded.sig_object["/SubFilter"] == "/ETSI.CAdES.detached"
    unsigned = [a["type"].native for a in embedded.signer_info["unsigned_attrs"]]
    assert unsigned == ["signature_time_stamp_token"]
    assert status.intact and status.valid and status.coverage.name == "ENTIRE_FILE"
    # issued by the test TSA, sound and chained to its root, for the moment of sealing
    ts = status.timestamp_validity
    assert ts is not None and ts.intact and ts.valid and ts.trusted
    assert ts.signing_cert.sha256 == asn1_certificate(tsa.certificate).sha256
    assert before - timedelta(seconds=5) <= ts.timestamp <= datetime.now(UTC) + timedelta(seconds=5)

    # and the verify report says when and by whom it was timestamped
    check = check_pdf(sealed, KEY, TRUSTED)
    assert check.akkoord_seal and check.valid and check.covers_whole_file
    assert check.timestamped_by == f"Common Name: {TSA_NAME}" and check.timestamped_at == ts.timestamp.isoformat()

    # and poppler's independent validator still finds the seal valid over the whole document
    (tmp_path / "sealed.pdf").write_bytes(sealed)
    report = run("pdfsig", tmp_path / "sealed.pdf")
    assert "Signature is Valid" in report and "Total document signed" in report


def test_a_seal_without_a_timestamp_authority_has_no_signature_timestamp():
    sealed = Sealer(KEY).seal(approval_certificate(an_evidence_record(), None), "evidence-bb")
    check = check_pdf(sealed, KEY, TRUSTED)
    assert check.valid and check.timestamped_at is None and check.timestamped_by is None


def test_the_timestamp_authority_is_asked_once_per_seal_after_the_first():
    with LoopbackTsa() as tsa:
        sealer = Sealer(KEY, tsa.url)
        certificate = approval_certificate(an_evidence_record(), None)
        sealer.seal(certificate, "evidence-1")
        # the first seal also fetched the token pyHanko sizes the signature's room with
        assert tsa.tokens_issued == 2
        sealer.seal(certificate, "evidence-2")
        sealer.seal(certificate, "evidence-3")
        assert tsa.tokens_issued == 4


def test_a_timestamp_authority_that_is_down_fails_the_seal_as_an_outage_that_is_retried():
    # given a TSA address where nothing listens, with credentials in it
    port = free_port()
    sealer = Sealer(KEY, f"http://seal:s3cret-pw@127.0.0.1:{port}/tsa", tsa_timeout_seconds=2)

    # when sealing, then no seal is made without its timestamp: the failure names the TSA...
    with pytest.raises(TimestampAuthorityUnavailable) as failure:
        sealer.seal(approval_certificate(an_evidence_record(), None), "evidence-down")
    message = str(failure.value)
    assert f"http://127.0.0.1:{port}/tsa" in message and "s3cret-pw" not in message
    # ...and the consumer takes it for an outage (retried for minutes, not dead-lettered at once)
    assert is_outage(failure.value)


def test_a_timestamp_authority_that_refuses_fails_the_seal_the_same_way():
    with LoopbackTsa(refuse=True) as tsa:
        with pytest.raises(TimestampAuthorityUnavailable, match="503"):
            Sealer(KEY, tsa.url).seal(approval_certificate(an_evidence_record(), None), "evidence-refused")
        assert tsa.tokens_issued == 0


def test_a_timestamp_authority_that_does_not_answer_in_time_fails_the_seal_the_same_way():
    with LoopbackTsa(stall=True) as tsa:
        with pytest.raises(TimestampAuthorityUnavailable) as failure:
            Sealer(KEY, tsa.url, tsa_timeout_seconds=0.5).seal(
                approval_certificate(an_evidence_record(), None), "evidence-stalled"
            )
        assert is_outage(failure.value) and tsa.tokens_issued == 0


def test_tokens_larger_than_the_first_one_still_fit_and_the_seal_is_timestamped(caplog):
    # given a TSA whose real tokens are much larger than the one the room was measured on
    with LoopbackTsa(grow=True) as tsa:
        sealer = Sealer(KEY, tsa.url)
        certificate = approval_certificate(an_evidence_record(), None)

        # when it seals twice, then both seals are whole and carry the large tokens...
        grew = []
        for evidence_id in ("evidence-1", "evidence-2"):
            caplog.clear()
            sealed = sealer.seal(certificate, evidence_id)
            grew.append(any("outgrew its room" in r.getMessage() for r in caplog.records))
            check = check_pdf(sealed, KEY, TRUSTED)
            assert check.valid and check.covers_whole_file and check.timestamped_by == f"Common Name: {TSA_NAME}"
            embedded, _ = signature_timestamp_of(sealed, KEY.cert_pem, tsa)
            (token,) = embedded.signer_info["unsigned_attrs"][0]["values"]
            assert len(token["content"]["certificates"]) > 20
    # ...the first made again in more room, the second in that room at once
    assert grew == [True, False]


def test_a_seal_key_with_a_long_certificate_chain_fits_at_the_first_try(caplog):
    from asn1crypto import pem

    from services.signing.adapters.keys import SealKey
    from tests.support.tsa import filler_certificates

    chain = b"".join(pem.armor("CERTIFICATE", cert.dump()) for cert in filler_certificates())
    key = SealKey(key_pem=KEY.key_pem, cert_pem=KEY.cert_pem + chain, development=False)
    # more than the fixed room (16 K hex digits) seals used to have, whatever their chain
    assert 2 * sum(len(cert.dump()) for cert in filler_certificates()) > 16 * 1024
    sealed = Sealer(key).seal(approval_certificate(an_evidence_record(), None), "evidence-chain")
    check = check_pdf(sealed, key, {key.fingerprint})
    assert check.akkoord_seal and check.valid and check.covers_whole_file
    assert not any("outgrew its room" in r.getMessage() for r in caplog.records)
