"""A seal key, its trust anchor and an evidence record, for tests of sealing and verifying."""

from __future__ import annotations

import io

from pyhanko.keys import load_certs_from_pemder_data
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.validation import validate_pdf_signature
from pyhanko_certvalidator import ValidationContext

from contracts import utcnow
from services.signing.adapters.keys import generate_development_key
from services.signing.domain import evidence_from_signed
from tests.support.signed_events import a_signature_png, a_task_signed
from tests.support.tsa import LoopbackTsa, asn1_certificate

KEY = generate_development_key()


TRUSTED = {KEY.fingerprint}


def an_evidence_record():
    return evidence_from_signed(a_task_signed("tenant-1", "http://x", a_signature_png()), utcnow())


def signature_timestamp_of(sealed: bytes, seal_cert_pem: bytes, tsa: LoopbackTsa):
    """pyHanko's verdict on the one seal and its signature timestamp, trusting the seal's certificate
    and the test TSA's root."""
    (embedded,) = PdfFileReader(io.BytesIO(sealed), strict=False).embedded_signatures
    context = ValidationContext(
        trust_roots=[*load_certs_from_pemder_data(seal_cert_pem), asn1_certificate(tsa.root)], allow_fetching=False
    )
    return embedded, validate_pdf_signature(embedded, context)
