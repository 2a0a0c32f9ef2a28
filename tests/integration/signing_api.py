"""Helpers for signing's integration tests: what it published about an action."""

from __future__ import annotations

from contracts.topics import SIGNING_EVENTS
from tests.support.bus import read_events


async def signing_events_for(bootstrap: str, action_id: str) -> list[dict]:
    return [
        body
        for body, _ in await read_events(bootstrap, SIGNING_EVENTS)
        if body.get("payload", {}).get("action_id") == action_id
    ]
