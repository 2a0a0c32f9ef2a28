"""Headers on every response: a strict Content-Security-Policy (no inline script or style) and friends."""

from __future__ import annotations

import base64
import hashlib

from starlette.types import ASGIApp, Message, Receive, Scope, Send


def csp(img_origin: str | None = None, style: str = "") -> str:
    """The policy; a branded page adds exactly its logo's origin and its one header style (by hash)."""
    img = f"'self' data: {img_origin}" if img_origin else "'self' data:"
    styles = "'self'"
    if style:
        styles += f" 'sha256-{base64.b64encode(hashlib.sha256(style.encode()).digest()).decode()}'"
    return (
        f"default-src 'none'; script-src 'self'; style-src {styles}; img-src {img}; font-src 'self'; "
        "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
    )


CSP = csp()
HEADERS = [
    (b"content-security-policy", CSP.encode()),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),  # the magic link's token must not leak in a Referer
    (b"x-frame-options", b"DENY"),
    (b"permissions-policy", b"camera=(), microphone=(), geolocation=()"),
]


class SecurityHeaders:
    def __init__(self, app: ASGIApp):
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                # A page that set its own policy (a branded one) keeps it.
                present = {k.lower() for k, _ in message.get("headers", [])}
                message["headers"] = [*message.get("headers", []), *[(k, v) for k, v in HEADERS if k not in present]]
                if scope["path"].startswith(("/api/", "/login", "/actions", "/tasks")) or scope["path"] == "/":
                    message["headers"].append((b"cache-control", b"no-store"))
            await send(message)

        await self.app(scope, receive, send_with_headers)
