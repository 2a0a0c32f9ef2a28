"""Server-to-server reads of what another service holds by reference (signature images, PDFs, timelines)."""

from __future__ import annotations

import asyncio
import logging
from typing import Any
from urllib.parse import urlsplit

import httpx

from contracts.errors import PermanentFailure

log = logging.getLogger(__name__)
MAX_BYTES = 50 * 1024 * 1024


class InternalFetcher:
    """Sends the internal token only to Akkoord's own service hosts, whatever URL an event names."""

    def __init__(self, internal_token: str, timeout: float, allowed_hosts: set[str]):
        self.internal_token = internal_token
        self.timeout = timeout
        self.allowed_hosts = allowed_hosts
        self._client: httpx.AsyncClient | None = None

    @property
    def client(self) -> httpx.AsyncClient:
        # One pooled client per process: building one (and its SSL context) per call costs ~35 ms of CPU.
        if self._client is None:
            self._client = httpx.AsyncClient(timeout=self.timeout, headers={"X-Internal-Token": self.internal_token})
        return self._client

    async def aclose(self) -> None:
        if self._client is not None:
            await self._client.aclose()
            self._client = None

    async def get(self, url: str, max_bytes: int = MAX_BYTES) -> bytes:
        """The bytes at `url`; gone or refused is permanent, an unreachable service is worth a retry."""
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or parts.hostname not in self.allowed_hosts:
            raise PermanentFailure(f"{url} is not on an Akkoord service host")
        # The whole read has one deadline (a trickling answer is an outage, retried), and no more than
        # `max_bytes` is ever held: the body is streamed and the read stops past the limit.
        async with asyncio.timeout(self.timeout), self.client.stream("GET", url) as response:
            if response.status_code in (400, 401, 403, 404, 410):
                raise PermanentFailure(f"{url} answered {response.status_code}")
            response.raise_for_status()
            too_large = PermanentFailure(f"{url} is larger than {max_bytes} bytes")
            if int(response.headers.get("content-length") or 0) > max_bytes:
                raise too_large
            body = bytearray()
            async for chunk in response.aiter_bytes():
                body += chunk
                if len(body) > max_bytes:
                    raise too_large
        return bytes(body)

    async def get_json_or_none(self, url: str) -> dict[str, Any] | None:
        """A best-effort JSON read: None when the service is away or says no."""
        try:
            response = await self.client.get(url, timeout=min(self.timeout, 5.0))
            return response.json() if response.status_code == 200 else None
        except (httpx.HTTPError, ValueError) as exc:
            log.info("no answer from %s: %r", url, exc)
            return None
