"""Bytes other Akkoord services hold (document PDFs, page previews, sealed PDFs), read server-to-server."""

from __future__ import annotations

import logging
from urllib.parse import urlsplit

import httpx

log = logging.getLogger(__name__)
MAX_BYTES = 50 * 1024 * 1024


class InternalFiles:
    def __init__(self, internal_token: str, allowed_bases: list[str], timeout: float = 10.0):
        self.internal_token = internal_token
        # Only addresses of our own services: URLs arrive on the bus, and must not steer our requests elsewhere.
        self.allowed = {urlsplit(b)._replace(path="", query="", fragment="").geturl() for b in allowed_bases}
        self.timeout = timeout

    def allows(self, url: str) -> bool:
        parts = urlsplit(url)
        return (
            parts.scheme in ("http", "https")
            and parts._replace(path="", query="", fragment="").geturl() in self.allowed
        )

    async def get(self, url: str, params: dict | None = None) -> tuple[bytes, str] | None:
        """The body and its media type, or None when it is missing or cannot be read right now."""
        if not self.allows(url):
            log.warning("refusing to fetch %s: not one of our services", url)
            return None
        try:
            async with httpx.AsyncClient(timeout=self.timeout) as client:
                response = await client.get(url, params=params, headers={"X-Internal-Token": self.internal_token})
        except httpx.HTTPError as exc:
            log.warning("cannot read %s: %r", url, exc)
            return None
        if response.status_code != 200 or len(response.content) > MAX_BYTES:
            log.warning("cannot read %s: HTTP %s", url, response.status_code)
            return None
        return response.content, response.headers.get("content-type", "application/octet-stream").split(";")[0]
