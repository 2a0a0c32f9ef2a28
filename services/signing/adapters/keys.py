"""The seal's key material: configured (PKCS#12 or PEM) in production, generated once in development.

The private key is never logged or returned by any route. The development key lives in the signing
database so that every replica and restart seals with the same certificate.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import NameOID
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

from services.signing.adapters.issuing import certificate_pem, distinguished_name, issue, key_usage, private_key_pem
from services.signing.config import Settings

DEVELOPMENT_ORG = "Akkoord development seal"


@dataclass(frozen=True)
class SealKey:
    key_pem: bytes = field(repr=False)
    cert_pem: bytes  # the seal certificate first, then its chain
    development: bool

    @property
    def certificate(self) -> x509.Certificate:
        return x509.load_pem_x509_certificates(self.cert_pem)[0]

    @property
    def fingerprint(self) -> str:
        return self.certificate.fingerprint(hashes.SHA256()).hex()


def generate_development_key(now: datetime | None = None) -> SealKey:
    now = now or datetime.now(UTC)
    key = ec.generate_private_key(ec.SECP256R1())
    cert = issue(
        distinguished_name("Akkoord seal (development)", organization=DEVELOPMENT_ORG),
        key,
        not_before=now - timedelta(minutes=5),
        not_after=now + timedelta(days=3650),
        extensions=[
            (x509.BasicConstraints(ca=True, path_length=None), True),
            (key_usage("digital_signature", "content_commitment", "key_cert_sign"), True),
        ],
    )
    return SealKey(key_pem=private_key_pem(key), cert_pem=certificate_pem(cert), development=True)


def load_configured_key(settings: Settings) -> SealKey:
    if settings.seal_pkcs12_path is not None:
        password = settings.seal_pkcs12_password.encode() or None
        key, cert, chain = pkcs12.load_key_and_certificates(settings.seal_pkcs12_path.read_bytes(), password)
        if key is None or cert is None:
            raise ValueError("the seal's PKCS#12 file must hold a private key and its certificate")
        certs = [cert, *(chain or [])]
    elif settings.seal_key_path is not None and settings.seal_cert_path is not None:
        password = settings.seal_key_password.encode() or None
        key = serialization.load_pem_private_key(settings.seal_key_path.read_bytes(), password)
        certs = x509.load_pem_x509_certificates(settings.seal_cert_path.read_bytes())
    else:  # the caller asks only when settings.seal_configured
        raise ValueError("no seal key configured: a PKCS#12 file, or a PEM key and its certificate")
    cert_pem = b"".join(certificate_pem(c) for c in certs)
    return SealKey(key_pem=private_key_pem(key), cert_pem=cert_pem, development=_is_development(certs[0]))


def _is_development(cert: x509.Certificate) -> bool:
    orgs = cert.subject.get_attributes_for_oid(NameOID.ORGANIZATION_NAME)
    return any(o.value == DEVELOPMENT_ORG for o in orgs)


class SealKeys:
    """Provides the one seal key of this deployment, refusing a development key in production."""

    def __init__(self, db: AsyncDatabase, settings: Settings):
        self.collection = db["seal_keys"]
        self.settings = settings
        self._key: SealKey | None = None

    @property
    def key(self) -> SealKey:
        if self._key is None:
            raise RuntimeError("the seal key is loaded at startup")
        return self._key

    async def load(self) -> None:
        if self.settings.seal_configured:
            key = load_configured_key(self.settings)
        else:
            key = await self._development_key()
        if key.development and self.settings.environment != "development":
            raise RuntimeError("refusing to seal with the development key outside development")
        self._key = key

    async def _development_key(self) -> SealKey:
        doc = await self.collection.find_one({"_id": "development"})
        if doc is None:
            fresh = generate_development_key()
            try:
                await self.collection.insert_one(
                    {
                        "_id": "development",
                        "key_pem": fresh.key_pem.decode(),
                        "cert_pem": fresh.cert_pem.decode(),
                        "fingerprint": fresh.fingerprint,
                    }
                )
            except DuplicateKeyError:
                pass  # another replica made it first: use theirs
            doc = await self.collection.find_one({"_id": "development"})
            if doc is None:
                raise RuntimeError("the development seal key was written but cannot be read back")
        return SealKey(key_pem=doc["key_pem"].encode(), cert_pem=doc["cert_pem"].encode(), development=True)

    async def trusted_fingerprints(self) -> set[str]:
        """The certificates whose seals count as Akkoord's: the current one; in development also the
        stored development one (never in production, even if a development database was reused)."""
        found = {self.key.fingerprint}
        if self.settings.environment == "development":
            async for doc in self.collection.find({}, {"fingerprint": 1}):
                found.add(doc["fingerprint"])
        return found
