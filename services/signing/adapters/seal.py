"""PAdES seals with pyHanko: sealing a PDF, and checking a PDF someone hands us.

Synchronous and CPU-bound: callers run these through `asyncio.to_thread`.
"""

from __future__ import annotations

import hashlib
import io
from dataclasses import dataclass
from functools import lru_cache
from urllib.parse import urlsplit

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.asymmetric.padding import PKCS1v15
from pyhanko.keys import load_certs_from_pemder_data, load_private_key_from_pemder_data
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign import fields, signers, timestamps
from pyhanko.sign.timestamps import TimestampRequestError
from pyhanko.sign.validation import validate_pdf_signature
from pyhanko_certvalidator import ValidationContext
from pyhanko_certvalidator.registry import SimpleCertificateStore
from pyhanko_certvalidator.util import get_pyca_cryptography_hash

from services.signing.adapters.keys import SealKey
from services.signing.domain import evidence_id_from_reason, seal_reason

FIELD_NAME = "AkkoordSeal"

# An ECDSA seal with its certificate chain takes ~1-3 KB; reserving room up front spares pyHanko a
# trial signature to estimate it. A timestamp token's size is unknown, so then pyHanko estimates.
RESERVED_BYTES = 16 * 1024


class TimestampAuthorityUnavailable(ConnectionError):
    """The configured TSA did not give us a token. A ConnectionError, so the consumer treats it as an
    outage: the seal is retried (for minutes, with backoff) and dead-lettered with this reason only when
    the TSA stays away. A seal is never made without the timestamp the deployment asked for: a B-B seal
    announced as B-T would be weaker proof than anyone downstream believes it to be."""


class _KeyInMemorySigner(signers.SimpleSigner):
    """pyHanko's SimpleSigner parses its private key again for every signature; for RSA that includes
    cryptography's key check (~30 ms per seal). This one parses it once."""

    def __init__(self, key: SealKey):
        certs = list(load_certs_from_pemder_data(key.cert_pem))
        super().__init__(signing_cert=certs[0],
                         signing_key=load_private_key_from_pemder_data(key.key_pem, passphrase=None),
                         cert_registry=SimpleCertificateStore.from_certs(certs))
        self._private_key = serialization.load_pem_private_key(key.key_pem, password=None)

    def sign_raw(self, data: bytes, digest_algorithm: str) -> bytes:
        try:
            mechanism = self.get_signature_mechanism_for_digest(digest_algorithm).signature_algo
        except ValueError:
            return super().sign_raw(data, digest_algorithm)
        hash_algorithm = get_pyca_cryptography_hash(digest_algorithm)
        if mechanism == "ecdsa" and isinstance(self._private_key, ec.EllipticCurvePrivateKey):
            return self._private_key.sign(data, ec.ECDSA(hash_algorithm))
        if mechanism == "rsassa_pkcs1v15" and isinstance(self._private_key, rsa.RSAPrivateKey):
            return self._private_key.sign(data, PKCS1v15(), hash_algorithm)
        return super().sign_raw(data, digest_algorithm)  # PSS, EdDSA, ...: pyHanko's own path


class Sealer:
    """What every seal shares, built once when the key loads: the signer (certificates parsed, key
    loaded) and the timestamp client, whose size-estimation token is then fetched once per process
    instead of once per seal."""

    def __init__(self, key: SealKey, tsa_url: str | None = None, tsa_timeout_seconds: float = 10.0):
        self.key = key
        self.signer = _KeyInMemorySigner(key)
        self.tsa_url = tsa_url
        self.timestamper = timestamps.HTTPTimeStamper(tsa_url, timeout=tsa_timeout_seconds) if tsa_url else None

    def seal(self, pdf: bytes, evidence_id: str) -> bytes:
        """One PAdES seal (ETSI.CAdES.detached) over the whole file; B-T when a TSA is configured."""
        meta = signers.PdfSignatureMetadata(
            field_name=FIELD_NAME, md_algorithm="sha256", subfilter=fields.SigSeedSubFilter.PADES,
            reason=seal_reason(evidence_id), name="Akkoord", location="Akkoord")
        writer = IncrementalPdfFileWriter(io.BytesIO(pdf), strict=False)
        try:
            out = signers.sign_pdf(writer, meta, signer=self.signer, timestamper=self.timestamper,
                                   bytes_reserved=None if self.timestamper else RESERVED_BYTES)
        except TimestampRequestError as exc:
            raise TimestampAuthorityUnavailable(self._tsa_failure(exc)) from exc
        return out.getvalue()

    def _tsa_failure(self, exc: BaseException) -> str:
        causes = []
        while exc is not None and len(causes) < 3:
            causes.append(f"{type(exc).__name__}: {exc}")
            exc = exc.__cause__
        # A TSA URL may carry its account's credentials; they stay out of logs and dead letters.
        parts = urlsplit(self.tsa_url or "")
        where = parts._replace(netloc=parts.netloc.rpartition("@")[2]).geturl()
        text = f"the timestamp authority {where} gave no token: " + "; ".join(causes)
        return text.replace(parts.password, "***") if parts.password else text


@lru_cache(maxsize=4)
def _sealer(key: SealKey, tsa_url: str | None) -> Sealer:
    return Sealer(key, tsa_url)


def seal_pdf(pdf: bytes, key: SealKey, evidence_id: str, tsa_url: str | None = None) -> bytes:
    """A seal with a key at hand (tests, the bench); the service keeps one `Sealer` instead."""
    return _sealer(key, tsa_url).seal(pdf, evidence_id)


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
    # A sound RFC 3161 signature timestamp (PAdES B-T): when the TSA saw the seal, and who the TSA is.
    # Whether that TSA is trusted is the reader's call; Akkoord keeps no list of TSAs.
    timestamped_at: str | None = None
    timestamped_by: str | None = None
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
    if (ts := status.timestamp_validity) is not None and ts.intact and ts.valid:
        check.timestamped_at, check.timestamped_by = ts.timestamp.isoformat(), ts.signing_cert.subject.human_friendly
    if not check.intact:
        check.problem = "the PDF was changed after it was sealed"
    elif not check.covers_whole_file:
        check.problem = "content was added to the PDF after it was sealed"
    return check


def _text(value) -> str | None:
    return str(value) if value is not None else None
