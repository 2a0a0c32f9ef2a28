"""`python -m services.tasks seed-demo`: the demo tenant, its staff key and its demo staff user, through the
same handlers."""

from __future__ import annotations

import asyncio
import logging
import secrets
import sys

from services.tasks import bootstrap
from services.tasks.config import Settings
from services.tasks.handlers.accounts import ensure_user
from services.tasks.handlers.tenants import DEMO_TENANT, ensure_demo_tenant


async def _seed(settings: Settings) -> tuple[str, str, str, str]:
    service = bootstrap.build(settings)
    runtime, uow = service.runtime, service.uow
    try:
        for hook in runtime.startup:
            await hook()
        # The events go to the outbox; the running service's relay publishes them.
        key = await ensure_demo_tenant(uow)
        seed = await uow.store.get_seed(DEMO_TENANT) or {}
        # The demo login stays the same from run to run unless AKKOORD_DEMO_STAFF_PASSWORD chooses another.
        password = settings.demo_staff_password or seed.get("staff_password") or secrets.token_urlsafe(12)
        await ensure_user(
            uow, DEMO_TENANT, email=settings.demo_staff_email, name="Demo Admin", role="admin", password=password
        )
        if seed.get("staff_password") != password:
            await uow.outbox.transaction(
                lambda session: uow.store.save_seed(DEMO_TENANT, {**seed, "staff_password": password}, session)
            )
        # The admin key lets the demo's seeding set tenant-wide settings (its staff mail address); not printed
        # in the banner.
        admin_key = (await uow.store.get_seed(DEMO_TENANT) or {}).get("admin_key", "")
        return key, settings.demo_staff_email, password, admin_key
    finally:
        await runtime.client.close()


def seed_demo(settings: Settings) -> int:
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr)
    key, email, password, admin_key = asyncio.run(_seed(settings))
    print(f"DEMO_STAFF_KEY={key}", flush=True)
    print(f"DEMO_STAFF_EMAIL={email}", flush=True)
    print(f"DEMO_STAFF_PASSWORD={password}", flush=True)
    print(f"DEMO_ADMIN_KEY={admin_key}", flush=True)
    return 0
