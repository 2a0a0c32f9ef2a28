"""The rebuild use case: the projection built again from Kafka beside the live one, and switched to only
when it holds every entry the live one holds, with the same hash.

The live projection chained each task's entries in the order events reached it, and recorded every place
on its own log, `timeline.chain` (see services/timeline/order.py). The rebuild learns from the events in the
order they happened, puts every recorded entry back at its recorded place (same content, same hashes: heads
anchored in evidence still match), then appends the entries that were never recorded, in the order they
happened, recording them in turn so the next rebuild keeps them where they are now. Each event goes through
consumer-style idempotency tracking, so a copy of an event delivered twice is applied once.

All of it is written to a staging store first. Topics keep their messages for 14 days, so an entry whose
event Kafka no longer holds would silently disappear from a rebuilt timeline (and break every anchored head
after it): when the staging projection lacks any live entry, or holds it with another hash, the rebuild is
refused, the staging store discarded and the live timelines left as they were.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from functools import partial
from typing import Protocol

from contracts import Envelope
from contracts.messages import TimelineEntryAppended
from contracts.topics import EVENT_TOPICS, Groups
from services.runtime.acceptance import accepted_submission
from services.runtime.consumer import Tracking
from services.runtime.mongo import Session
from services.timeline import handlers
from services.timeline.order import placements
from services.timeline.unit_of_work import UnitOfWork


class History(Protocol):
    async def events(self) -> list[tuple[Envelope, str, int, int]]: ...

    async def placements_log(self) -> list[TimelineEntryAppended]: ...


@dataclass
class Staging:
    timeline: UnitOfWork  # over a store (and outbox) of its own, beside the live one
    tracking: Tracking
    publish: Callable[[], Awaitable[None]]  # relays the live outbox (the places of appended entries, adopted)


async def rebuild(live: UnitOfWork, staging: Staging, history: History, projected: frozenset[type]) -> dict:
    """Rebuild into `staging`; switch the live projection to it only if no live entry would be lost."""
    read = await history.events()
    # The order they happened in, then their place in the log: how the rebuild learns names and actions,
    # and the order of entries that were never recorded.
    topic_order = {t: i for i, t in enumerate(EVENT_TOPICS)}
    read.sort(key=lambda r: (r[0].occurred_at, topic_order[r[1]], r[2], r[3]))
    # An acceptance's signing or decline is projected as its own event, just before the acceptance (as live).
    events = [
        fact
        for message, *_ in read
        if type(message) in projected
        for fact in (accepted_submission(message), message)
        if fact is not None
    ]
    records = await history.placements_log()
    placed = placements(records)
    store = staging.timeline.store
    await store.discard()  # what an earlier, interrupted rebuild left
    await store.ensure_indexes()
    await staging.timeline.outbox.ensure_indexes()
    report = {
        "events_read": len(events),
        "records_read": len(records),
        "events_applied": 0,
        "entries_restored": 0,
        "entries_changed": 0,
        "entries_appended": 0,
    }
    unplaced: list[Envelope] = []
    for event in events:
        outcome: dict = {}

        async def put_back(message: Envelope, session: Session, outcome: dict = outcome) -> None:
            outcome["restored"], outcome["changed"], outcome["complete"] = await handlers.restore(
                staging.timeline, message, session, placed
            )

        if await staging.tracking.handle_once(Groups.TIMELINE, event, put_back):
            report["events_applied"] += 1
            report["entries_restored"] += outcome["restored"]
            report["entries_changed"] += outcome["changed"]
            if not outcome["complete"]:
                unplaced.append(event)
    await store.reset_heads()
    for event in unplaced:
        report["entries_appended"] += await staging.timeline.outbox.transaction(
            partial(handlers.append_new, staging.timeline, event)
        )
    report["entries"] = await store.entry_count()
    # Recorded places whose event is no longer on its topic (retention, a topic made again).
    report["recorded_but_missing"] = len(placed) - report["entries_restored"]
    lost, examples = await live.store.entries_missing_from(store)
    if lost:
        await store.discard()
        return {**report, "switched": False, "entries_lost": lost, "lost": examples}
    await live.store.take_over(store)
    await live.store.adopt_marks(store, Groups.TIMELINE)
    # The places of the entries the rebuild appended go out through the live outbox: should the broker be
    # away now, the service's relay publishes them once it is back (the staging area is dropped below).
    await live.store.adopt_outbox(store)
    await live.store.ensure_indexes()
    await staging.publish()
    await store.discard()
    return {**report, "switched": True}
