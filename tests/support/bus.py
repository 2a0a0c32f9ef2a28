"""Talk to the real broker from a test: publish envelopes, read a topic (e.g. a DLQ)."""

from __future__ import annotations

import json

from aiokafka import AIOKafkaProducer

from contracts import Envelope
from services.runtime.topic_reader import read_topics


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
    """Every record on `topic` so far (up to the end each partition had when the read began), as (decoded JSON
    body or {"raw": ...}, headers)."""
    out = []
    for r in await read_topics(bootstrap, (topic,), timeout=timeout):
        try:
            body = json.loads(r.value)
        except ValueError:
            body = {"raw": r.value.decode(errors="replace")}
        out.append((body, {k: v.decode(errors="replace") for k, v in r.headers}))
    return out


async def read_events(bootstrap: str, topic: str, timeout: float = 60) -> list[tuple[dict, dict]]:
    """The events on `topic` as its consumers know them: `read_all` with the copies of one event (same event id)
    counted once. Delivery is at least once: a relay that published a message and died before marking it
    published puts it on the bus again. A test that finds one event here found one effect of its cause."""
    seen: set[str] = set()
    events = []
    for body, headers in await read_all(bootstrap, topic, timeout=timeout):
        if (event_id := body.get("event_id")) is not None:
            if event_id in seen:
                continue
            seen.add(event_id)
        events.append((body, headers))
    return events
