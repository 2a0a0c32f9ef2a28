"""The webhook delivery loop (a background job of the service): claims each due delivery and makes its attempt
(webhook_handlers.attempt), several at once within bounds."""

from __future__ import annotations

import asyncio
import logging
from collections import Counter
from dataclasses import dataclass, field
from datetime import timedelta

from contracts import utcnow
from services.automation import webhook_handlers
from services.automation.unit_of_work import UnitOfWork

log = logging.getLogger(__name__)


@dataclass
class DeliveryLoop:
    uow: UnitOfWork
    poll_interval: float = 1.0
    lease: timedelta = timedelta(seconds=60)
    # Attempts run concurrently, at most `concurrency` in all and `per_tenant` for one tenant: a tenant
    # whose endpoint is slow fills its own slots, and the other tenants' deliveries go on beside it.
    concurrency: int = 16
    per_tenant: int = 2
    _in_flight: set[asyncio.Task] = field(default_factory=set, init=False, repr=False)
    _busy: Counter[str] = field(default_factory=Counter, init=False, repr=False)

    async def deliver_due(self) -> int:
        """Start an attempt for every delivery that is due, within the bounds; the number started."""
        started = 0
        while len(self._in_flight) < self.concurrency:
            full = [tenant for tenant, n in self._busy.items() if n >= self.per_tenant]
            delivery = await self.uow.webhooks.claim_due(utcnow(), self.lease, skip_tenants=full)
            if delivery is None:
                break
            self._start(delivery)
            started += 1
        return started

    def _start(self, delivery: dict) -> None:
        tenant = delivery["tenant_id"]
        self._busy[tenant] += 1
        task = asyncio.create_task(self._attempt_logged(delivery), name=f"webhook {delivery['_id']}")
        self._in_flight.add(task)

        def done(_: asyncio.Task) -> None:
            self._in_flight.discard(task)
            self._busy[tenant] -= 1
            if not self._busy[tenant]:
                del self._busy[tenant]

        task.add_done_callback(done)

    async def _attempt_logged(self, delivery: dict) -> None:
        try:
            await webhook_handlers.attempt(delivery, self.uow)
        except Exception as exc:  # database away: the lease runs out, and the next claim counts it as failed
            log.warning("webhook delivery %s not recorded: %s", delivery["_id"], exc)

    async def run(self) -> None:
        """Claim what is due whenever a slot is free, until cancelled."""
        try:
            while True:
                try:
                    await self.deliver_due()
                except asyncio.CancelledError:
                    raise
                except Exception as exc:  # database away: deliveries wait, none are lost
                    log.warning("webhook delivery paused: %s", exc)
                # Look again after the poll interval, or as soon as an attempt ends and frees a slot.
                pause = asyncio.create_task(asyncio.sleep(self.poll_interval))
                try:
                    await asyncio.wait([*self._in_flight, pause], return_when=asyncio.FIRST_COMPLETED)
                finally:
                    pause.cancel()
        finally:
            for task in self._in_flight:
                task.cancel()
            await asyncio.gather(*self._in_flight, return_exceptions=True)
