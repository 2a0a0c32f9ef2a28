"""Read topics to the end they had when the read began (timeline's rebuild, dead-letter listing, tests).

One fetch is not enough: it returns what arrived within its wait, at most a megabyte per partition, and
nothing at all when the broker is slow to answer. So each partition is read until its position reaches the
end offset taken at the start; records that arrive meanwhile are left for the next read.
"""

from __future__ import annotations

import asyncio

from aiokafka import AIOKafkaConsumer, ConsumerRecord, TopicPartition


def fresh_consumer(bootstrap: str, group: str | None = None) -> AIOKafkaConsumer:
    """A consumer that commits nothing by itself; without a group it reads as nobody."""
    return AIOKafkaConsumer(
        bootstrap_servers=bootstrap, group_id=group, enable_auto_commit=False, auto_offset_reset="earliest"
    )


async def partitions_of(consumer: AIOKafkaConsumer, topic: str) -> list[TopicPartition]:
    found = consumer.partitions_for_topic(topic)
    if found is None:
        await consumer._client.force_metadata_update()  # aiokafka learns a topic's partitions lazily
        found = consumer.partitions_for_topic(topic)
    return [TopicPartition(topic, p) for p in sorted(found or ())]


async def read_to_end(
    consumer: AIOKafkaConsumer,
    partitions: list[TopicPartition],
    *,
    from_committed: bool = False,
    timeout: float | None = 60.0,
) -> list[ConsumerRecord]:
    """Every record of `partitions` up to their ends when the read began: from the start, or from the group's
    committed cursor where it has one. No timeout: as long as it takes (a rebuild reads whole topics)."""
    if not partitions:
        return []
    consumer.assign(partitions)
    for tp in partitions:
        committed = await consumer.committed(tp) if from_committed else None
        if committed is None:
            await consumer.seek_to_beginning(tp)
        else:
            consumer.seek(tp, committed)
    ends = await consumer.end_offsets(partitions)
    deadline = None if timeout is None else asyncio.get_running_loop().time() + timeout
    records: list[ConsumerRecord] = []
    while [tp for tp in partitions if await consumer.position(tp) < ends[tp]]:
        if deadline is not None and asyncio.get_running_loop().time() > deadline:
            raise TimeoutError(f"{partitions[0].topic} not read to its end within {timeout:.0f}s")
        for tp, batch in (await consumer.getmany(*partitions, timeout_ms=500)).items():
            records.extend(r for r in batch if r.offset < ends[tp])
    return records


async def read_topics(bootstrap: str, topics: tuple[str, ...], *, timeout: float | None = 60.0) -> list[ConsumerRecord]:
    """Every record on `topics` up to their current ends, read by a fresh consumer without a group."""
    consumer = fresh_consumer(bootstrap)
    await consumer.start()
    try:
        partitions = [tp for topic in topics for tp in await partitions_of(consumer, topic)]
        return await read_to_end(consumer, partitions, timeout=timeout)
    finally:
        await consumer.stop()
