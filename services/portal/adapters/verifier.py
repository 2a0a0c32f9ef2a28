"""Checks a PDF's seal with the signing service's public verification API."""

from __future__ import annotations

import logging

import httpx

log = logging.getLogger(__name__)


class SealVerifier:
    def __init__(self, signing_url: str, timeout: float = 30.0, internal_token: str = ""):
        self.url = f"{signing_url.rstrip('/')}/v1/verify"
        self.timeout = timeout
        # Signing rates its public endpoint per client; the portal limits its own visitors, so it says
        # who it is rather than counting all of them as one client.
        self.headers = {"X-Internal-Token": internal_token} if internal_token else {}

    async def verify(self, filename: str, pdf: bytes) -> dict | None:
        """The signing service's verdict, or None when it cannot be asked right now."""
        try:
            async with httpx.AsyncClient(timeout=self.timeout) as client:
                response = await client.post(
                    self.url, headers=self.headers, files={"file": (filename or "document.pdf", pdf, "application/pdf")}
                )
        except httpx.HTTPError as exc:
            log.warning("seal verification unavailable: %r", exc)
            return None
        if response.status_code in (413, 422):
            return {"verified": False, "problem": response.json().get("detail", "")}
        if response.status_code != 200:
            log.warning("seal verification failed: HTTP %s", response.status_code)
            return None
        return response.json()
