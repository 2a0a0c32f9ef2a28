"""X.509 certificates issued in one place: the development seal's, the bench's and the test TSA's."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec

from services.signing.adapters.issuing import distinguished_name, issue, key_usage
from services.signing.adapters.keys import generate_development_key

NOW = datetime(2026, 1, 1, tzinfo=UTC)


def test_a_key_usage_grants_the_named_uses_and_nothing_else():
    usage = key_usage("key_cert_sign", "crl_sign")
    assert usage.key_cert_sign and usage.crl_sign
    assert not (usage.digital_signature or usage.content_commitment or usage.key_encipherment)


def test_a_certificate_issued_by_another_names_it_and_verifies_with_its_key():
    root_key, leaf_key = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())
    root_name = distinguished_name("Root", organization="Akkoord")
    leaf = issue(
        distinguished_name("Leaf", unit="ops"),
        leaf_key,
        not_before=NOW,
        not_after=NOW + timedelta(days=1),
        issuer=(root_name, root_key),
        extensions=[(x509.BasicConstraints(ca=False, path_length=None), True)],
        serial=7,
    )
    assert leaf.issuer == root_name and leaf.subject.rfc4514_string() == "OU=ops,CN=Leaf"
    assert leaf.serial_number == 7 and leaf.not_valid_after_utc == NOW + timedelta(days=1)
    assert leaf.extensions.get_extension_for_class(x509.BasicConstraints).critical
    leaf.verify_directly_issued_by(
        issue(root_name, root_key, not_before=NOW, not_after=NOW + timedelta(days=1))
    )  # raises if the signature is not the root's


def test_the_development_seal_is_a_self_signed_ca_for_signatures_and_commitments():
    cert = generate_development_key(NOW).certificate
    assert cert.issuer == cert.subject
    assert cert.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    usage = cert.extensions.get_extension_for_class(x509.KeyUsage).value
    assert usage.digital_signature and usage.content_commitment and usage.key_cert_sign and not usage.crl_sign
