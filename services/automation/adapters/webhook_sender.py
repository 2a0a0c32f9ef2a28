"""Sends one signed webhook request; the answer is a status code or the transport error."""

from __future__ import annotations

import httpx


class WebhookSender:
    def __init__(self, timeout: float):
        self.client = httpx.AsyncClient(timeout=timeout, follow_redirects=False)

    async def post(self, url: str, body: bytes, headers: dict[str, str]) -> tuple[int | None, str | None]:
        try:
            response = await self.client.post(url, content=body, headers=headers)
        except httpx.HTTPError as exc:
            return None, f"{type(exc).__name__}: {exc}"[:500]
        return response.status_code, None

    async def close(self) -> None:
        await self.client.aclose()
