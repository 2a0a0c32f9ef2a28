"""Talk to the real broker from a test: publish envelopes, read a topic (e.g. a DLQ)."""

from __future__ import annotations

import asyncio
import json

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer

from contracts import Envelope


async def publish(bootstrap: str, topic: str, *messages: Envelope | bytes, key: str = "test") -> None:
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all", enable_idempotence=True)
    await producer.start()
    try:
        for m in messages:
            if isinstance(m, Envelope):
                await producer.send_and_wait(topic, m.model_dump_json().encode(), key=m.key.encode())
            else:
                await producer.send_and_wait(topic, m, key=key.encode())
    finally:
        await producer.stop()


async def read_all(bootstrap: str, topic: str, timeout: float = 60) -> list[tuple[dict, dict]]:
    """Every record on `topic` so far, as (decoded JSON body or {"raw": ...}, headers).

    It reads each partition up to the end it had when the read began: one fetch is not enough, as it returns
    what arrived within its wait, at most a megabyte per partition (the newest records, those a test looks
    for, are the ones left out), and nothing at all when the broker is slow to answer."""
    # Without a group the consumer takes every partition of the topic as soon as it knows them.
    consumer = AIOKafkaConsumer(topic, bootstrap_servers=bootstrap, group_id=None, auto_offset_reset="earliest",
                                enable_auto_commit=False)
    await consumer.start()
    try:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while not consumer.assignment():
            assert loop.time() < deadline, f"no partitions of {topic} assigned within {timeout}s"
            await consumer.getmany(timeout_ms=200)
        partitions = list(consumer.assignment())
        await consumer.seek_to_beginning(*partitions)
        ends = await consumer.end_offsets(partitions)
        out = []
        while [tp for tp, end in ends.items() if await consumer.position(tp) < end]:
            assert loop.time() < deadline, f"{topic} not read to its end within {timeout}s"
            for tp, records in (await consumer.getmany(*partitions, timeout_ms=1000)).items():
                for r in records:
                    if r.offset >= ends[tp]:
                        continue  # arrived after the read began
                    try:
                        body = json.loads(r.value)
                    except ValueError:
                        body = {"raw": r.value.decode(errors="replace")}
                    out.append((body, {k: v.decode(errors="replace") for k, v in r.headers}))
        return out
    finally:
        await consumer.stop()
