"""Talk to the real broker from a test: publish envelopes, read a topic (e.g. a DLQ)."""

from __future__ import annotations

import json
import uuid

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


async def read_all(bootstrap: str, topic: str, timeout_ms: int = 3000) -> list[tuple[dict, dict]]:
    """Every record on `topic` so far, as (decoded JSON body or {"raw": ...}, headers)."""
    consumer = AIOKafkaConsumer(topic, bootstrap_servers=bootstrap, group_id=f"test-{uuid.uuid4().hex}",
                                auto_offset_reset="earliest", enable_auto_commit=False)
    await consumer.start()
    try:
        batches = await consumer.getmany(timeout_ms=timeout_ms)
        out = []
        for records in batches.values():
            for r in records:
                try:
                    body = json.loads(r.value)
                except ValueError:
                    body = {"raw": r.value.decode(errors="replace")}
                out.append((body, {k: v.decode(errors="replace") for k, v in r.headers}))
        return out
    finally:
        await consumer.stop()
