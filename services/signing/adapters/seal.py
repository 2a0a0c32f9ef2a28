"""PAdES seals with pyHanko: sealing a PDF, and checking a PDF someone hands us.

Synchronous and CPU-bound: callers run these through `asyncio.to_thread`.
"""

from __future__ import annotations

import asyncio
import hashlib
import io
import logging
import ssl
from contextlib import asynccontextmanager
from dataclasses import dataclass
from functools import lru_cache
from urllib.parse import urlsplit

import aiohttp
import certifi
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.asymmetric.padding import PKCS1v15
from pyhanko.keys import load_certs_from_pemder_data, load_private_key_from_pemder_data
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign import fields, signers, timestamps
from pyhanko.sign.general import SigningError
from pyhanko.sign.timestamps import TimestampRequestError
from pyhanko.sign.validation import validate_pdf_signature
from pyhanko_certvalidator import ValidationContext
from pyhanko_certvalidator.registry import SimpleCertificateStore
from pyhanko_certvalidator.util import get_pyca_cryptography_hash

from services.signing.adapters.keys import SealKey
from services.signing.domain import evidence_id_from_reason, seal_reason

log = logging.getLogger(__name__)

FIELD_NAME = "AkkoordSeal"

# The seal's room in the file, in hex digits (two per byte of its CMS): the certificates it embeds,
# plus this much for the signature, its attributes and the structure around them (~1 KB of the 4 KB
# allowed). Reserving room up front spares pyHanko a trial signature (a second CMS, built and thrown
# away) per seal to measure it. A seal that still outgrows its room is made again in twice the room.
SIGNATURE_ROOM = 8 * 1024
ROOM_ATTEMPTS = 4


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
        super().__init__(
            signing_cert=certs[0],
            signing_key=load_private_key_from_pemder_data(key.key_pem, passphrase=None),
            cert_registry=SimpleCertificateStore.from_certs(certs),
        )
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


class _TimestampClient(timestamps.HTTPTimeStamper):
    """pyHanko's HTTP timestamp client, with one TLS context per process: by default every request
    builds a fresh one and loads the CA bundle into it (~10 ms of CPU per seal)."""

    def __init__(self, url: str, timeout: float):
        super().__init__(url, timeout=timeout)
        self._tls = ssl.create_default_context(cafile=certifi.where())  # the bundle pyHanko uses

    @asynccontextmanager
    async def _acquire_session(self):
        # pyHanko signs on an event loop of its own per seal and a session is bound to its loop, so
        # still a session per request, as pyHanko's own, only around the shared context.
        async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(ssl=self._tls)) as session:
            yield session


class Sealer:
    """What every seal shares, built once when the key loads: the signer (certificates parsed, key
    loaded), the timestamp client, and the room a seal takes in the file (with a TSA: measured on one
    token from it, once per process)."""

    def __init__(self, key: SealKey, tsa_url: str | None = None, tsa_timeout_seconds: float = 10.0):
        self.key = key
        self.signer = _KeyInMemorySigner(key)
        self.tsa_url = tsa_url
        self.timestamper = _TimestampClient(tsa_url, tsa_timeout_seconds) if tsa_url else None
        self._room = SIGNATURE_ROOM + 2 * sum(len(cert.dump()) for cert in self.signer.cert_registry)
        self._token_room: int | None = None

    def seal(self, pdf: bytes, evidence_id: str) -> bytes:
        """One PAdES seal (ETSI.CAdES.detached) over the whole file; B-T when a TSA is configured."""
        try:
            for _ in range(ROOM_ATTEMPTS - 1):
                try:
                    return self._sign(pdf, evidence_id, self._reserved())
                except SigningError as exc:
                    if "larger than expected" not in str(exc):
                        raise
                    self._grow(exc)
            return self._sign(pdf, evidence_id, self._reserved())
        except TimestampRequestError as exc:
            raise TimestampAuthorityUnavailable(self._tsa_failure(exc)) from exc

    def _sign(self, pdf: bytes, evidence_id: str, room: int) -> bytes:
        meta = signers.PdfSignatureMetadata(
            field_name=FIELD_NAME,
            md_algorithm="sha256",
            subfilter=fields.SigSeedSubFilter.PADES,
            reason=seal_reason(evidence_id),
            name="Akkoord",
            location="Akkoord",
        )
        writer = IncrementalPdfFileWriter(io.BytesIO(pdf), strict=False)
        return signers.sign_pdf(
            writer, meta, signer=self.signer, timestamper=self.timestamper, bytes_reserved=room
        ).getvalue()

    def _reserved(self) -> int:
        if self.timestamper is not None and self._token_room is None:
            # One token for a dummy digest (pyHanko's own size probe, which the timestamper keeps), in
            # hex, plus half again as pyHanko allows: tokens differ by a few bytes (nonce, serial, time).
            token = 2 * len(asyncio.run(self.timestamper.async_dummy_response("sha256")).dump())
            self._token_room = token + 2 * (token // 4)
        return self._room + (self._token_room or 0)

    def _grow(self, exc: SigningError) -> None:
        # Larger than measured (a TSA whose tokens vary, an unusual chain): twice the room, kept for
        # the seals after this one too.
        if self._token_room is not None:
            self._token_room *= 2
        else:
            self._room *= 2
        log.warning("a seal outgrew its room (%s); reserving %d hex digits from now on", exc, self._reserved())

    def _tsa_display(self) -> str:
        # A TSA URL may carry its account's credentials; they stay out of logs and dead letters.
        parts = urlsplit(self.tsa_url or "")
        return parts._replace(netloc=parts.netloc.rpartition("@")[2]).geturl()

    def _tsa_failure(self, exc: BaseException) -> str:
        causes: list[str] = []
        cause: BaseException | None = exc
        while cause is not None and len(causes) < 3:
            causes.append(f"{type(cause).__name__}: {cause}")
            cause = cause.__cause__
        text = f"the timestamp authority {self._tsa_display()} gave no token: " + "; ".join(causes)
        password = urlsplit(self.tsa_url or "").password
        return text.replace(password, "***") if password else text


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
    return check_pdf_against(data, key.cert_pem, trusted_fingerprints)


def check_pdf_against(data: bytes, cert_pem: bytes, trusted_fingerprints: set[str]) -> SealCheck:
    """check_pdf with only what it needs of the key (the certificate), for a worker process."""
    try:
        return _check(data, cert_pem, trusted_fingerprints)
    except Exception as exc:  # anyone may upload anything: hostile input gets a report, never a 500
        return SealCheck(sealed=False, problem=f"the PDF's signatures cannot be read: {exc}")


def _check(data: bytes, cert_pem: bytes, trusted_fingerprints: set[str]) -> SealCheck:
    try:
        reader = PdfFileReader(io.BytesIO(data), strict=False)
        embedded = list(reader.embedded_signatures)
    except Exception as exc:  # hostile or broken input: a report, not a crash
        return SealCheck(sealed=False, problem=f"not a readable PDF: {exc}")
    if not embedded:
        return SealCheck(sealed=False, problem="the PDF carries no signature")
    ours = [
        s
        for s in embedded
        if s.signer_cert is not None and hashlib.sha256(s.signer_cert.dump()).hexdigest() in trusted_fingerprints
    ] or embedded
    # The seal that matters is the last one: it covers everything before it.
    sig = ours[-1]
    check = SealCheck(sealed=True, signatures=len(embedded))
    check.akkoord_seal = (
        sig.signer_cert is not None and hashlib.sha256(sig.signer_cert.dump()).hexdigest() in trusted_fingerprints
    )
    check.signer = sig.signer_cert.subject.human_friendly if sig.signer_cert is not None else None
    check.evidence_id = evidence_id_from_reason(_text(sig.sig_object.get("/Reason")))
    trust = list(load_certs_from_pemder_data(cert_pem))
    try:
        status = validate_pdf_signature(sig, ValidationContext(trust_roots=trust, allow_fetching=False))
    except Exception as exc:  # pyHanko raises many kinds on malformed signatures
        check.problem = f"the signature cannot be validated: {exc}"
        return check
    check.intact = bool(status.intact)
    check.valid = bool(status.intact and status.valid)
    check.covers_whole_file = (
        status.coverage == fields.SignatureCoverageLevel.ENTIRE_FILE
        if hasattr(fields, "SignatureCoverageLevel")
        else str(status.coverage).endswith("ENTIRE_FILE")
    )
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
