"""`python -m services.tasks seed-demo`: the demo tenant and its staff key, through the same handlers."""

from __future__ import annotations

import asyncio
import logging
import sys

from services.tasks import bootstrap
from services.tasks.config import Settings
from services.tasks.handlers.tenants import ensure_demo_tenant


async def _seed(settings: Settings) -> str:
    runtime, deps = bootstrap.build(settings)
    try:
        for hook in runtime.startup:
            await hook()
        # The events go to the outbox; the running service's relay publishes them.
        return await ensure_demo_tenant(deps)
    finally:
        await runtime.client.close()


def seed_demo(settings: Settings) -> int:
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr)
    key = asyncio.run(_seed(settings))
    print(f"DEMO_STAFF_KEY={key}", flush=True)
    return 0
