"""Fetching a signature image from the portal, by the reference carried in the signed event."""

from __future__ import annotations

from urllib.parse import urlsplit

import httpx

from contracts.errors import PermanentFailure

MAX_SIGNATURE_BYTES = 5 * 1024 * 1024


class SignatureImages:
    def __init__(self, internal_token: str, timeout: float, allowed_hosts: set[str]):
        self.internal_token = internal_token
        self.timeout = timeout
        # The internal token goes only to hosts that run Akkoord's services, whatever URL an event names.
        self.allowed_hosts = allowed_hosts

    async def fetch(self, url: str) -> bytes:
        """The image bytes; a missing image is permanent, an unreachable portal is worth a retry."""
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or parts.hostname not in self.allowed_hosts:
            raise PermanentFailure(f"signature image URL {url} is not on an Akkoord service host")
        async with httpx.AsyncClient(timeout=self.timeout) as client:
            response = await client.get(url, headers={"X-Internal-Token": self.internal_token})
        if response.status_code in (400, 401, 403, 404, 410):
            raise PermanentFailure(f"signature image {url} answered {response.status_code}")
        response.raise_for_status()
        if len(response.content) > MAX_SIGNATURE_BYTES:
            raise PermanentFailure(f"signature image {url} is larger than {MAX_SIGNATURE_BYTES} bytes")
        return response.content
