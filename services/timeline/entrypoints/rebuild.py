"""`python -m services.timeline rebuild`: drop the projection and replay every event topic from the start.

Events are applied in the order they happened (occurred_at, then their place in the log), through the
same handler and the same idempotency tracking as the live consumer, so a rebuild while the service
runs cannot apply an event twice, and running it twice gives the same timelines.
"""

from __future__ import annotations

from contracts.topics import EVENT_TOPICS, Groups
from services.runtime.consumer import Tracking
from services.runtime.mongo import connect
from services.runtime.outbox import Outbox
from services.timeline.adapters.mongo import TimelineStore
from services.timeline.adapters.replay import read_from_beginning
from services.timeline.config import Settings
from services.timeline.entrypoints.subscribers import COMMAND_TYPES
from services.timeline.handlers import Timeline


async def rebuild(settings: Settings) -> dict:
    client = connect(settings.mongodb_uri)
    try:
        db = client[settings.database]
        store, tracking = TimelineStore(db), Tracking(Outbox(client, db))
        timeline = Timeline(store)
        # Drop first: whatever the live consumer handles from now on is kept, and the replay skips it.
        await store.drop_all()
        await tracking.processed.delete_many({"_id": {"$regex": f"^{Groups.TIMELINE}:"}})
        await store.ensure_indexes()
        records = await read_from_beginning(settings.kafka_bootstrap_servers, EVENT_TOPICS)
        topic_order = {t: i for i, t in enumerate(EVENT_TOPICS)}
        records.sort(key=lambda r: (r[0].occurred_at, topic_order[r[1]], r[2], r[3]))
        applied = 0
        for message, *_ in records:
            if message.type not in COMMAND_TYPES:
                applied += await tracking.handle_once(Groups.TIMELINE, message, timeline.project)
        return {"events_read": len(records), "events_applied": applied,
                "entries": await store.entries.count_documents({})}
    finally:
        client.close()
