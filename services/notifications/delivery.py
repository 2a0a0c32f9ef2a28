"""The sender loop (a background job of the service): claims each due notification and makes its attempt
(delivery_handlers.deliver), one at a time, until none is due; then waits a poll interval."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from datetime import timedelta

from services.notifications import delivery_handlers
from services.notifications.unit_of_work import UnitOfWork

log = logging.getLogger(__name__)


@dataclass
class DeliveryLoop:
    uow: UnitOfWork
    poll_interval: float = 1.0
    # Longer than an attempt (the settings check it), so no attempt is still going when the next claim counts
    # it as lost.
    lease: timedelta = timedelta(seconds=120)

    async def deliver_due(self) -> int:
        """Make the attempt of every notification that is due; the number claimed."""
        done = 0
        while (claim := await self.uow.store.claim_due(self.uow.clock(), self.lease)) is not None:
            await delivery_handlers.deliver(claim, self.uow)
            done += 1
        return done

    async def run(self) -> None:
        while True:
            try:
                attempted = await self.deliver_due()
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # the database away: mails wait; the claim after the lease counts the attempt
                log.warning("notification delivery paused: %s", exc)
                attempted = 0
            if not attempted:
                await asyncio.sleep(self.poll_interval)
