"""`python -m services.timeline rebuild`: drop the projection and rebuild it from Kafka, equal to the live one.

The live projection chained each task's entries in the order events reached it, and recorded every place
on its own log, `timeline.chain` (see services/timeline/order.py). The rebuild reads the event topics and
that log, learns from the events in the order they happened, puts every recorded entry back at its recorded
place (same content, same hashes: heads anchored in evidence still match), and then appends the entries
that were never recorded, in the order they happened, recording them in turn so the next rebuild keeps
them where they are now. Each event goes through the live consumer's idempotency tracking, so a copy of an
event delivered twice is applied once.

It refuses to run while timeline's consumers do (stop the timeline service first): an entry the live
projection appended during the rebuild would take a place the rebuild is about to restore.
"""

from __future__ import annotations

from contracts import Envelope
from contracts.messages import TimelineEntryAppended
from contracts.topics import EVENT_TOPICS, TIMELINE_CHAIN, Groups
from services.runtime.app import build_runtime
from services.runtime.bus import ensure_topics
from services.runtime.mongo import Session
from services.runtime.outbox import OutboxRelay
from services.timeline.adapters.mongo import TimelineStore
from services.timeline.adapters.replay import group_has_members, read_from_beginning
from services.timeline.config import Settings
from services.timeline.entrypoints.subscribers import PROJECTED
from services.timeline.handlers import Timeline
from services.timeline.order import placements


class TimelineRunning(RuntimeError):
    pass


async def rebuild(settings: Settings) -> dict:
    bootstrap = settings.kafka_bootstrap_servers
    if await group_has_members(bootstrap, Groups.TIMELINE):
        raise TimelineRunning(f"consumer group {Groups.TIMELINE} is active: stop the timeline service, then "
                              "rebuild (an entry appended meanwhile would take a place the rebuild restores)")
    await ensure_topics(bootstrap)
    runtime = build_runtime("timeline", settings)
    store, tracking = TimelineStore(runtime.db), runtime.tracking
    timeline = Timeline(store, runtime.outbox)
    relay = OutboxRelay(runtime.outbox, runtime.broker)
    await runtime.outbox.ensure_indexes()
    await runtime.broker.connect()
    try:
        # Places the live projection recorded but had not yet published belong in the log before it is read.
        while await relay.relay_once():
            pass
        read = await read_from_beginning(bootstrap, EVENT_TOPICS)
        # The order they happened in, then their place in the log: how the rebuild learns names and actions,
        # and the order of entries that were never recorded.
        topic_order = {t: i for i, t in enumerate(EVENT_TOPICS)}
        read.sort(key=lambda r: (r[0].occurred_at, topic_order[r[1]], r[2], r[3]))
        events = [message for message, *_ in read if type(message) in PROJECTED]
        records = [r[0] for r in await read_from_beginning(bootstrap, (TIMELINE_CHAIN,))
                   if isinstance(r[0], TimelineEntryAppended)]
        placed = placements(records)
        await store.drop_all()
        await tracking.processed.delete_many({"_id": {"$regex": f"^{Groups.TIMELINE}:"}})
        await store.ensure_indexes()
        report = {"events_read": len(events), "records_read": len(records), "events_applied": 0,
                  "entries_restored": 0, "entries_changed": 0, "entries_appended": 0}
        unplaced: list[Envelope] = []
        for event in events:
            outcome: dict = {}

            async def put_back(message: Envelope, session: Session) -> None:
                outcome["restored"], outcome["changed"], outcome["complete"] = \
                    await timeline.restore(message, session, placed)

            if await tracking.handle_once(Groups.TIMELINE, event, put_back):
                report["events_applied"] += 1
                report["entries_restored"] += outcome["restored"]
                report["entries_changed"] += outcome["changed"]
                if not outcome["complete"]:
                    unplaced.append(event)
        await store.reset_heads()
        for event in unplaced:
            report["entries_appended"] += await runtime.outbox.transaction(
                lambda session, event=event: timeline.append_new(event, session))
        while await relay.relay_once():
            pass
        report["entries"] = await store.entries.count_documents({})
        # Recorded places whose event is no longer on its topic (retention): verify shows those chains broken.
        report["recorded_but_missing"] = len(placed) - report["entries_restored"]
        return report
    finally:
        await runtime.broker.stop()
        await runtime.client.close()
