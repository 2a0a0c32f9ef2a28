"""Read topics from the beginning with a fresh consumer (no group, nothing committed)."""

from __future__ import annotations

import logging

from aiokafka.admin import AIOKafkaAdminClient
from pydantic import ValidationError

from contracts import Envelope, parse_message
from contracts.messages import TimelineEntryAppended
from contracts.topics import EVENT_TOPICS, TIMELINE_CHAIN
from services.runtime.topic_reader import read_topics

log = logging.getLogger(__name__)


async def read_from_beginning(bootstrap: str, topics: tuple[str, ...]) -> list[tuple[Envelope, str, int, int]]:
    """Every parseable message on `topics` up to their current end, with (topic, partition, offset)."""
    out: list[tuple[Envelope, str, int, int]] = []
    for record in await read_topics(bootstrap, topics, timeout=None):
        try:
            message = parse_message(record.value)
        except (ValueError, ValidationError) as exc:
            log.warning("skipping unreadable %s@%s/%s: %s", record.topic, record.partition, record.offset, exc)
            continue
        if message is not None:
            out.append((message, record.topic, record.partition, record.offset))
    return out


async def group_has_members(bootstrap: str, group: str) -> bool:
    """Whether some process is consuming as `group` right now (a stopped service leaves its group)."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        responses = await admin.describe_consumer_groups([group])
    finally:
        await admin.close()
    # Each described group is (error_code, group_id, state, protocol_type, protocol, members, ...).
    return any(
        described[2] not in ("Empty", "Dead") or described[5] for response in responses for described in response.groups
    )


class KafkaHistory:
    """What a rebuild reads: every event on the event topics, and timeline's own log of where entries went."""

    def __init__(self, bootstrap: str):
        self.bootstrap = bootstrap

    async def events(self) -> list[tuple[Envelope, str, int, int]]:
        return await read_from_beginning(self.bootstrap, EVENT_TOPICS)

    async def placements_log(self) -> list[TimelineEntryAppended]:
        return [
            r[0]
            for r in await read_from_beginning(self.bootstrap, (TIMELINE_CHAIN,))
            if isinstance(r[0], TimelineEntryAppended)
        ]
