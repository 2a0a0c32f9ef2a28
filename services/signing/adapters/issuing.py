"""X.509 certificates (SHA-256) issued in one place: the development seal's, and those the bench and the
tests' timestamp authority make."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Literal, get_args

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric.types import CertificateIssuerPrivateKeyTypes, PrivateKeyTypes
from cryptography.x509.oid import NameOID

KeyUse = Literal[
    "digital_signature",
    "content_commitment",
    "key_encipherment",
    "data_encipherment",
    "key_agreement",
    "key_cert_sign",
    "crl_sign",
    "encipher_only",
    "decipher_only",
]


def distinguished_name(common_name: str, *, organization: str | None = None, unit: str | None = None) -> x509.Name:
    attributes = [x509.NameAttribute(NameOID.COMMON_NAME, common_name)]
    if organization is not None:
        attributes.append(x509.NameAttribute(NameOID.ORGANIZATION_NAME, organization))
    if unit is not None:
        attributes.append(x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, unit))
    return x509.Name(attributes)


def key_usage(*uses: KeyUse) -> x509.KeyUsage:
    """A KeyUsage that grants `uses` and nothing else."""
    granted = set(uses)
    return x509.KeyUsage(**{use: use in granted for use in get_args(KeyUse)})


def issue(
    subject: x509.Name,
    key: CertificateIssuerPrivateKeyTypes,
    *,
    not_before: datetime,
    not_after: datetime,
    issuer: tuple[x509.Name, CertificateIssuerPrivateKeyTypes] | None = None,
    extensions: Sequence[tuple[x509.ExtensionType, bool]] = (),
    serial: int | None = None,
) -> x509.Certificate:
    """A certificate for `key`'s public half: self-signed, or signed by `issuer` (its name and key).
    Each extension comes with whether it is critical; the serial is random unless given."""
    issuer_name, issuer_key = issuer or (subject, key)
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number() if serial is None else serial)
        .not_valid_before(not_before)
        .not_valid_after(not_after)
    )
    for extension, critical in extensions:
        builder = builder.add_extension(extension, critical=critical)
    return builder.sign(issuer_key, hashes.SHA256())


def private_key_pem(key: PrivateKeyTypes) -> bytes:
    """The key as unencrypted PKCS#8 PEM."""
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


def certificate_pem(cert: x509.Certificate) -> bytes:
    return cert.public_bytes(serialization.Encoding.PEM)
