"""PAdES seals with pyHanko: sealing a PDF, and checking a PDF someone hands us.

Synchronous and CPU-bound: callers run these through `asyncio.to_thread`.
"""

from __future__ import annotations

import hashlib
import io
from dataclasses import dataclass
from functools import lru_cache

from pyhanko.keys import load_certs_from_pemder_data, load_private_key_from_pemder_data
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign import fields, signers, timestamps
from pyhanko.sign.validation import validate_pdf_signature
from pyhanko_certvalidator import ValidationContext
from pyhanko_certvalidator.registry import SimpleCertificateStore

from services.signing.adapters.keys import SealKey
from services.signing.domain import evidence_id_from_reason, seal_reason

FIELD_NAME = "AkkoordSeal"


# An ECDSA seal with its certificate chain takes ~1-3 KB; reserving room up front spares pyHanko a
# trial signature to estimate it. A timestamp token's size is unknown, so then pyHanko estimates.
RESERVED_BYTES = 16 * 1024


@lru_cache(maxsize=4)
def _signer(key: SealKey) -> signers.SimpleSigner:
    certs = list(load_certs_from_pemder_data(key.cert_pem))
    return signers.SimpleSigner(signing_cert=certs[0],
                                signing_key=load_private_key_from_pemder_data(key.key_pem, passphrase=None),
                                cert_registry=SimpleCertificateStore.from_certs(certs))


def seal_pdf(pdf: bytes, key: SealKey, evidence_id: str, tsa_url: str | None = None) -> bytes:
    signer = _signer(key)
    meta = signers.PdfSignatureMetadata(
        field_name=FIELD_NAME, md_algorithm="sha256", subfilter=fields.SigSeedSubFilter.PADES,
        reason=seal_reason(evidence_id), name="Akkoord", location="Akkoord")
    writer = IncrementalPdfFileWriter(io.BytesIO(pdf), strict=False)
    timestamper = timestamps.HTTPTimeStamper(tsa_url) if tsa_url else None
    out = signers.sign_pdf(writer, meta, signer=signer, timestamper=timestamper,
                           bytes_reserved=None if timestamper else RESERVED_BYTES)
    return out.getvalue()


@dataclass
class SealCheck:
    sealed: bool
    akkoord_seal: bool = False
    intact: bool = False
    valid: bool = False
    covers_whole_file: bool = False
    evidence_id: str | None = None
    signed_at: str | None = None
    signer: str | None = None
    signatures: int = 0
    problem: str | None = None


def check_pdf(data: bytes, key: SealKey, trusted_fingerprints: set[str]) -> SealCheck:
    """Whether `data` carries one of our seals, untouched, over the whole file."""
    try:
        return _check(data, key, trusted_fingerprints)
    except Exception as exc:  # anyone may upload anything: hostile input gets a report, never a 500
        return SealCheck(sealed=False, problem=f"the PDF's signatures cannot be read: {exc}")


def _check(data: bytes, key: SealKey, trusted_fingerprints: set[str]) -> SealCheck:
    try:
        reader = PdfFileReader(io.BytesIO(data), strict=False)
        embedded = list(reader.embedded_signatures)
    except Exception as exc:  # hostile or broken input: a report, not a crash
        return SealCheck(sealed=False, problem=f"not a readable PDF: {exc}")
    if not embedded:
        return SealCheck(sealed=False, problem="the PDF carries no signature")
    ours = [s for s in embedded if s.signer_cert is not None
            and hashlib.sha256(s.signer_cert.dump()).hexdigest() in trusted_fingerprints] or embedded
    # The seal that matters is the last one: it covers everything before it.
    sig = ours[-1]
    check = SealCheck(sealed=True, signatures=len(embedded))
    check.akkoord_seal = sig.signer_cert is not None and \
        hashlib.sha256(sig.signer_cert.dump()).hexdigest() in trusted_fingerprints
    check.signer = sig.signer_cert.subject.human_friendly if sig.signer_cert is not None else None
    check.evidence_id = evidence_id_from_reason(_text(sig.sig_object.get("/Reason")))
    trust = list(load_certs_from_pemder_data(key.cert_pem))
    try:
        status = validate_pdf_signature(sig, ValidationContext(trust_roots=trust, allow_fetching=False))
    except Exception as exc:  # pyHanko raises many kinds on malformed signatures
        check.problem = f"the signature cannot be validated: {exc}"
        return check
    check.intact = bool(status.intact)
    check.valid = bool(status.intact and status.valid)
    check.covers_whole_file = status.coverage == fields.SignatureCoverageLevel.ENTIRE_FILE \
        if hasattr(fields, "SignatureCoverageLevel") else str(status.coverage).endswith("ENTIRE_FILE")
    check.signed_at = status.signer_reported_dt.isoformat() if status.signer_reported_dt else None
    if not check.intact:
        check.problem = "the PDF was changed after it was sealed"
    elif not check.covers_whole_file:
        check.problem = "content was added to the PDF after it was sealed"
    return check


def _text(value) -> str | None:
    return str(value) if value is not None else None
