"""The approval certificate and evidence page speak the signer's language and the tenant's time zone."""

from __future__ import annotations

from datetime import UTC, datetime

import pypdfium2 as pdfium
import pytest

from contracts import utcnow
from services.signing.adapters.certificate import approval_certificate, evidence_page
from services.signing.domain import TimelineAnchor, evidence_from_signed
from tests.support.signed_events import a_document_signed, a_signature_png, a_task_signed

SIGNED_AT = datetime(2026, 12, 6, 0, 50, 12, tzinfo=UTC)


def signed_in(language: str, time_zone: str, document: bool = False):
    event = (
        a_document_signed("t", "http://x", a_signature_png(), "doc-1", "ver-1", "cd" * 32)
        if document
        else a_task_signed("t", "http://x", a_signature_png())
    )
    event = event.model_copy(
        update={
            "payload": event.payload.model_copy(
                update={
                    "language": language,
                    "evidence": event.payload.evidence.model_copy(update={"signed_at": SIGNED_AT}),
                }
            )
        }
    )
    return evidence_from_signed(event, utcnow(), time_zone)


def text_of(pdf: bytes) -> str:
    document = pdfium.PdfDocument(pdf)
    return " ".join(document[i].get_textpage().get_text_bounded() for i in range(len(document)))


@pytest.mark.parametrize(
    "language, time_zone, expected",
    [
        (
            "nl",
            "Europe/Amsterdam",
            ["Goedkeuringsbewijs", "Ondertekend door", "Ondertekend op", "6 december 2026, 01:50", "Toestemming", "ja"],
        ),
        ("en", "Europe/Amsterdam", ["Approval certificate", "Signed by", "6 December 2026, 01:50", "Consent", "yes"]),
        ("en", "America/New_York", ["5 December 2026, 19:50", "America/New_York"]),
    ],
)
def test_the_approval_certificate_is_in_the_signers_language_and_the_tenants_time_zone(language, time_zone, expected):
    text = text_of(approval_certificate(signed_in(language, time_zone), a_signature_png()))
    for words in expected:
        assert words in text, (words, text)
    assert "2026-12-06T00:50:12+00:00" in text  # and the exact moment in UTC beside it


def test_the_evidence_page_of_a_document_is_in_dutch_for_a_dutch_signer():
    text = text_of(evidence_page(signed_in("nl", "Europe/Amsterdam", document=True), None))
    assert "Bewijs van ondertekening" in text and "6 december 2026, 01:50" in text
    assert "Signing evidence" not in text


def test_a_certificate_sealed_without_a_timeline_anchor_says_so():
    evidence = signed_in("en", "Europe/Amsterdam")
    assert "not anchored" in " ".join(text_of(approval_certificate(evidence, None)).split())
    anchored = evidence.model_copy(update={"timeline_anchor": TimelineAnchor(seq=3, hash="ab" * 32)})
    text = " ".join(text_of(approval_certificate(anchored, None)).split())
    assert "not anchored" not in text and "#3" in text
