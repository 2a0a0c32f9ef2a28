"""The portal timeline, read server-to-server from the timeline service."""

from __future__ import annotations

import logging

import httpx

log = logging.getLogger(__name__)


class TimelineClient:
    def __init__(self, base_url: str, internal_token: str, timeout: float):
        self.base_url = base_url.rstrip("/")
        self.internal_token = internal_token
        self.timeout = timeout

    async def portal_entries(self, tenant_id: str, task_id: str, contact_id: str) -> list[dict] | None:
        """The contact's portal entries for a task, or None when the timeline cannot be read right now."""
        try:
            async with httpx.AsyncClient(timeout=self.timeout) as client:
                response = await client.get(
                    f"{self.base_url}/internal/v1/tasks/{task_id}/timeline",
                    params={"tenant_id": tenant_id, "contact_id": contact_id},
                    headers={"X-Internal-Token": self.internal_token},
                )
            if response.status_code == 404:
                return []  # the timeline has not heard of this task yet: nothing to show, not an outage
            response.raise_for_status()
            entries = response.json().get("entries", [])
            return entries if isinstance(entries, list) else None
        except (httpx.HTTPError, ValueError, AttributeError) as exc:
            log.warning("timeline unavailable for task %s: %r", task_id, exc)
            return None
