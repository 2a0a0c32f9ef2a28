"""The sealed PDF of a thank-you mail, read from signing by the URL its event named, when small enough."""

from __future__ import annotations

import logging
from dataclasses import dataclass

import httpx

from contracts.errors import PermanentFailure
from services.notifications.domain import Notification
from services.runtime.internal_http import InternalFetcher

log = logging.getLogger(__name__)


@dataclass
class Proofs:
    fetcher: InternalFetcher
    max_bytes: int

    async def attachment(self, n: Notification) -> tuple[str, str, bytes] | None:
        url = n.facts.get("pdf_url")
        if n.kind != "proof" or not self.max_bytes or not isinstance(url, str):
            return None
        try:
            data = await self.fetcher.get(url, max_bytes=self.max_bytes)
        except (PermanentFailure, httpx.HTTPError) as exc:  # too large, gone, or signing away: the link suffices
            log.info("notification %s goes without its PDF: %s", n.id, exc)
            return None
        return f"{str(n.facts.get('proof') or 'proof').replace('_', '-')}.pdf", "application/pdf", data
