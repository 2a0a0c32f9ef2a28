"""Broker wiring: one faststream KafkaBroker per service, and the topics it relies on."""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any

from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import TopicAlreadyExistsError
from faststream.kafka import KafkaBroker
from faststream.kafka.opentelemetry import KafkaTelemetryMiddleware
from opentelemetry.sdk.trace import TracerProvider

from contracts.topics import ALL_TOPICS, dlq

log = logging.getLogger(__name__)


def make_broker(bootstrap: str, service: str, tracer_provider: TracerProvider) -> KafkaBroker:
    return KafkaBroker(
        bootstrap,
        client_id=f"akkoord-{service}",
        acks="all",
        enable_idempotence=True,
        middlewares=[KafkaTelemetryMiddleware(tracer_provider=tracer_provider)],
        logger=logging.getLogger(f"akkoord.{service}.bus"),
        log_level=logging.DEBUG,
    )


async def ensure_topics(bootstrap: str, partitions: int = 3, led_within: float = 30.0) -> None:
    """Create the topics if missing. In production they are declared (Strimzi KafkaTopic); this is a no-op.

    A topic just created (by this service or another starting beside it) has no partition leaders for a
    moment; consumers started then log errors (NotLeaderForPartition) until it has. So a service waits, up to
    `led_within` seconds, until every partition has a leader, and starts consuming quietly."""
    topics = [t for topic in ALL_TOPICS for t in (topic, dlq(topic))]
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        if wanted := [t for t in topics if t not in set(await admin.list_topics())]:
            try:
                await admin.create_topics([NewTopic(t, partitions, 1) for t in wanted])
            except TopicAlreadyExistsError:
                pass  # another service created them first
        deadline = time.monotonic() + led_within
        while not _all_led(await admin.describe_topics(topics), topics):
            if time.monotonic() > deadline:
                log.warning("topics still electing leaders after %g s; consuming anyway", led_within)
                return
            await asyncio.sleep(0.2)
    finally:
        await admin.close()


def _all_led(described: list[dict[str, Any]], topics: list[str]) -> bool:
    led = {
        t["topic"]
        for t in described
        if t["error_code"] == 0 and t["partitions"] and all(p["leader"] >= 0 for p in t["partitions"])
    }
    return led >= set(topics)
