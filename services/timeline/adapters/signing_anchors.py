"""The timeline heads signing anchored in its evidence, read from signing's internal API."""

from __future__ import annotations

from urllib.parse import quote

from services.runtime.internal_http import InternalFetcher


class SigningAnchors:
    def __init__(self, fetcher: InternalFetcher, signing_url: str):
        self.fetcher, self.signing_url = fetcher, signing_url.rstrip("/")

    async def __call__(self, tenant_id: str, task_id: str) -> list[dict] | None:
        """Signing's anchors for the task, or None when signing does not answer."""
        found = await self.fetcher.get_json_or_none(
            f"{self.signing_url}/internal/v1/tasks/{quote(task_id, safe='')}/anchors?tenant_id={quote(tenant_id)}"
        )
        return None if found is None else list(found.get("anchors", []))
