"""Broker wiring: one faststream KafkaBroker per service, and the topics it relies on."""

from __future__ import annotations

import logging

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


async def ensure_topics(bootstrap: str, partitions: int = 3) -> None:
    """Create the topics if missing. In production they are declared (Strimzi KafkaTopic); this is a no-op."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        existing = set(await admin.list_topics())
        wanted = [t for topic in ALL_TOPICS for t in (topic, dlq(topic)) if t not in existing]
        if wanted:
            try:
                await admin.create_topics([NewTopic(t, partitions, 1) for t in wanted])
            except TopicAlreadyExistsError:
                pass  # another service created them first
    finally:
        await admin.close()
