"""A real RFC 3161 timestamp authority over HTTP on loopback, for tests.

pyHanko's DummyTimeStamper does the TSA's work (it signs a TSTInfo for the request's message imprint
with a key it holds); this wraps it in an HTTP server that speaks `application/timestamp-query` /
`application/timestamp-reply`, as a real TSA does. Its certificate (RSA, extended key usage
timeStamping, critical) is issued by a test root, so validators can be told to trust it, or not.
"""

from __future__ import annotations

import hashlib
import threading
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from asn1crypto import keys as asn1_keys
from asn1crypto import tsp
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID
from pyhanko.sign.timestamps import DummyTimeStamper

from services.signing.adapters.issuing import distinguished_name, issue, key_usage

TSA_NAME = "Akkoord test TSA"


@lru_cache(maxsize=1)
def tsa_material() -> tuple[x509.Certificate, x509.Certificate, rsa.RSAPrivateKey]:
    """(root certificate, TSA certificate, TSA key): made once per test session."""
    now = datetime.now(UTC)
    not_before, not_after = now - timedelta(days=1), now + timedelta(days=30)
    root_key, tsa_key = (rsa.generate_private_key(public_exponent=65537, key_size=2048) for _ in range(2))
    root_name = distinguished_name("Akkoord test TSA root")
    root = issue(
        root_name,
        root_key,
        not_before=not_before,
        not_after=not_after,
        extensions=[
            (x509.BasicConstraints(ca=True, path_length=0), True),
            (key_usage("key_cert_sign", "crl_sign"), True),
        ],
    )
    tsa = issue(
        distinguished_name(TSA_NAME),
        tsa_key,
        not_before=not_before,
        not_after=not_after,
        issuer=(root_name, root_key),
        extensions=[(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.TIME_STAMPING]), True)],
    )
    return root, tsa, tsa_key


@lru_cache(maxsize=1)
def filler_certificates(count: int = 24) -> list[asn1_x509.Certificate]:
    """Certificates a token can carry beside the TSA's own, to make it much larger."""
    key, now = ec.generate_private_key(ec.SECP256R1()), datetime.now(UTC)
    return [
        asn1_certificate(
            issue(
                distinguished_name(f"Akkoord test intermediate {n:02d}", unit="padding " * 8),
                key,
                not_before=now - timedelta(days=1),
                not_after=now + timedelta(days=30),
            )
        )
        for n in range(count)
    ]


def asn1_certificate(cert: x509.Certificate) -> asn1_x509.Certificate:
    return asn1_x509.Certificate.load(cert.public_bytes(serialization.Encoding.DER))


class LoopbackTsa:
    """`with LoopbackTsa(port) as tsa:` serves timestamps at `tsa.url` until the block ends.

    `refuse=True` makes it answer every request with 503, as a TSA in trouble does; `stall=True` makes
    it answer nothing until the block ends; `grow=True` makes every token but the one for pyHanko's
    size probe (the digest of nothing) carry two dozen more certificates.
    """

    def __init__(self, port: int = 0, refuse: bool = False, stall: bool = False, grow: bool = False):
        root, cert, key = tsa_material()
        self.root, self.certificate = root, cert
        tsa_cert, tsa_key = (
            asn1_certificate(cert),
            asn1_keys.PrivateKeyInfo.load(
                key.private_bytes(
                    serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
                )
            ),
        )
        self.stamper = DummyTimeStamper(tsa_cert=tsa_cert, tsa_key=tsa_key, certs_to_embed=[asn1_certificate(root)])
        self.large_stamper = DummyTimeStamper(
            tsa_cert=tsa_cert, tsa_key=tsa_key, certs_to_embed=[asn1_certificate(root), *filler_certificates()]
        )
        self.port, self.refuse, self.stall, self.grow = port, refuse, stall, grow
        self.released = threading.Event()
        self.tokens_issued = 0
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/tsa"

    def __enter__(self) -> LoopbackTsa:
        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), self._handler())
        self.port = self._server.server_address[1]
        threading.Thread(target=self._server.serve_forever, name="loopback-tsa", daemon=True).start()
        return self

    def __exit__(self, *exc) -> None:
        assert self._server is not None
        self.released.set()
        self._server.shutdown()
        self._server.server_close()

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        tsa = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                if tsa.stall:
                    tsa.released.wait(30)
                    return
                if tsa.refuse:
                    return self._answer(503, "text/plain", b"timestamping is down for maintenance")
                if self.headers.get("Content-Type") != "application/timestamp-query":
                    return self._answer(415, "text/plain", b"expected application/timestamp-query")
                request = tsp.TimeStampReq.load(body)
                probe = request["message_imprint"]["hashed_message"].native == hashlib.sha256(b"").digest()
                stamper = tsa.large_stamper if tsa.grow and not probe else tsa.stamper
                with tsa._lock:
                    reply = stamper.request_tsa_response(request).dump()
                    tsa.tokens_issued += 1
                self._answer(200, "application/timestamp-reply", reply)

            def _answer(self, status: int, content_type: str, body: bytes) -> None:
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args) -> None:
                pass

        return Handler
