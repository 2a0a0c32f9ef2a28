"""Signed events as the portal emits them, and a stand-in for the portal's signature image endpoint."""

from __future__ import annotations

import hashlib
import io
import threading
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from PIL import Image, ImageDraw

from contracts import Actor, new_id, utcnow
from contracts.messages import DocumentSigned, DocumentSignedPayload, TaskSigned, TaskSignedPayload
from contracts.models import Evidence, SignatureRef, Signer, TaskSnapshot
from services.runtime.config import DEV_SECRET


def a_signature_png() -> bytes:
    image = Image.new("RGBA", (300, 100), (255, 255, 255, 0))
    ImageDraw.Draw(image).line([(10, 80), (80, 20), (150, 70), (290, 30)], fill=(20, 20, 120, 255), width=4)
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


@contextmanager
def serving_signature(png: bytes):
    """A loopback server answering like the portal's internal signature endpoint; yields the image URL."""
    with serving(png, "image/png", "/internal/v1/signatures/sig") as url:
        yield url


@contextmanager
def serving(data: bytes, content_type: str, path: str):
    """Answer an internal read (the internal token required) of a fresh URL ending in `path` with `data`, for
    the duration of the block; yields the URL.

    One loopback server serves every test of the run: a URL whose block has ended answers 404, so a service
    that reads it late (a backlog a consumer starts on, say) fails that message at once, where a server
    that had gone would look like an outage, retried for minutes."""
    url_path = f"/{new_id()}{path}"
    _SERVED[url_path] = (data, content_type)
    try:
        yield f"http://127.0.0.1:{_server().server_port}{url_path}"
    finally:
        del _SERVED[url_path]


_SERVED: dict[str, tuple[bytes, str]] = {}
_SERVER: list[ThreadingHTTPServer] = []


def _server() -> ThreadingHTTPServer:
    if not _SERVER:

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802 (http.server's spelling)
                found = _SERVED.get(self.path.split("?")[0])
                if self.headers.get("X-Internal-Token") != DEV_SECRET or found is None:
                    self.send_response(401 if found is not None else 404)
                    self.end_headers()
                    return
                data, content_type = found
                self.send_response(200)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args):
                pass

        server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        _SERVER.append(server)
    return _SERVER[0]


def _common(tenant_id: str, image_url: str, png: bytes, fields: dict) -> dict:
    task_id, contact_id = new_id(), new_id()
    return dict(
        action_id=new_id(),
        signer=Signer(contact_id=contact_id, name="Jan de Vries", email="jan@example.com"),
        fields=fields,
        signature=SignatureRef(
            signature_id=new_id(), kind="drawn", image_digest=hashlib.sha256(png).hexdigest(), image_url=image_url
        ),
        evidence=Evidence(
            signed_at=utcnow(),
            ip="203.0.113.7",
            user_agent="Mozilla/5.0 (test)",
            session_id=new_id(),
            auth_method="magic_link",
            consent_text="I approve this work and sign electronically.",
            consent_version="2026-01",
        ),
        task=TaskSnapshot(
            task_id=task_id,
            title="Repaint the hallway",
            description="Two coats, white.",
            phase="Waiting for approval",
            contact_id=contact_id,
        ),
    ), Actor(kind="contact", id=contact_id, name="Jan de Vries")


def a_task_signed(tenant_id: str, image_url: str, png: bytes) -> TaskSigned:
    payload, actor = _common(tenant_id, image_url, png, {"po_number": "PO-77", "satisfied": True})
    return TaskSigned(
        tenant_id=tenant_id, task_id=payload["task"].task_id, actor=actor, payload=TaskSignedPayload(**payload)
    )


def a_document_signed(
    tenant_id: str, image_url: str, png: bytes, document_id: str, version_id: str, digest: str
) -> DocumentSigned:
    payload, actor = _common(tenant_id, image_url, png, {"po_number": "PO-78"})
    return DocumentSigned(
        tenant_id=tenant_id,
        task_id=payload["task"].task_id,
        actor=actor,
        payload=DocumentSignedPayload(
            **payload, document_id=document_id, document_version_id=version_id, document_digest=digest
        ),
    )
