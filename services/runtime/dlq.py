"""Dead-letter queues: list what is in `<topic>.dlq`, and replay it once its cause is fixed.

    python -m services.runtime.dlq list tasks.events
    python -m services.runtime.dlq replay tasks.events [--group akkoord.signing] [--dry-run] [--event-id E ...]

A replay publishes each dead-lettered message again on its source topic, with its key (so it joins its
task's partition) and a `replay_for` header naming the group that dead-lettered it: only that group
handles it, every other group passes over it before any transaction. Each group's replay has its own
cursor (Kafka consumer group `akkoord.dlq-replay.<group>` on the DLQ), committed after the messages are
on the bus: a second replay sends only what was dead-lettered since, and a replay cut short sends some
messages again, which the group's idempotent handling makes harmless. A message that fails again is
dead-lettered again, to be replayed later.

Unreadable messages (not an Akkoord message at all) are not replayed; they would only come back. They
stay in the DLQ, listed, until its retention drops them.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from dataclasses import asdict, dataclass
from typing import Any

from aiokafka import AIOKafkaProducer, ConsumerRecord, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient

from contracts.topics import dlq
from services.runtime.config import ServiceSettings
from services.runtime.topic_reader import fresh_consumer, read_to_end

REPLAY_FOR = "replay_for"
UNREADABLE = "unreadable message"


def dead_letter_headers(
    group: str, reason: str, source_topic: str, partition: int | None = None, offset: int | None = None
) -> dict[str, str]:
    """The headers of a dead letter, which `list` and `replay` read: who failed it, why, where it came from."""
    headers = {"error": reason[:2000], "group": group, "source_topic": source_topic}
    if partition is not None and offset is not None:
        headers |= {"source_partition": str(partition), "source_offset": str(offset)}
    return headers


def replay_cursor(group: str) -> str:
    return f"akkoord.dlq-replay.{group}"


@dataclass
class DeadLetter:
    partition: int
    offset: int
    group: str
    error: str
    source_topic: str
    source_offset: str
    type: str | None
    event_id: str | None
    replayed: bool = False  # its group's replay cursor is past it (an unreadable one was left behind, not sent)

    @property
    def unreadable(self) -> bool:
        return self.error.startswith(UNREADABLE)


def _headers(record: ConsumerRecord) -> dict[str, str]:
    return {k: v.decode(errors="replace") for k, v in record.headers}


def _dead_letter(record: ConsumerRecord, topic: str) -> DeadLetter:
    headers = _headers(record)
    try:
        body = json.loads(record.value or b"")
    except ValueError:
        body = None
    body = body if isinstance(body, dict) else {}
    return DeadLetter(
        partition=record.partition,
        offset=record.offset,
        group=headers.get("group", ""),
        error=headers.get("error", ""),
        source_topic=headers.get("source_topic", topic),
        source_offset=headers.get("source_offset", ""),
        type=body.get("type"),
        event_id=body.get("event_id"),
    )


async def _partitions(bootstrap: str, topic: str) -> list[TopicPartition]:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        [described] = await admin.describe_topics([topic])
    finally:
        await admin.close()
    if described["error_code"] or not described["partitions"]:
        raise SystemExit(f"no topic {topic!r} on the broker")
    return [
        TopicPartition(topic, p["partition"]) for p in sorted(described["partitions"], key=lambda p: p["partition"])
    ]


async def list_dead_letters(bootstrap: str, topic: str) -> list[DeadLetter]:
    """Everything in `topic`'s DLQ, each marked replayed when its group's replay cursor is past it."""
    consumer = fresh_consumer(bootstrap, None)
    await consumer.start()
    try:
        records = await read_to_end(consumer, await _partitions(bootstrap, dlq(topic)), from_committed=False)
        letters = [_dead_letter(r, topic) for r in records]
    finally:
        await consumer.stop()
    for group in sorted({letter.group for letter in letters}):
        cursor = fresh_consumer(bootstrap, replay_cursor(group))
        await cursor.start()
        try:
            done = {
                p: await cursor.committed(TopicPartition(dlq(topic), p))
                for p in {letter.partition for letter in letters if letter.group == group}
            }
            for letter in letters:
                if letter.group == group:
                    letter.replayed = done[letter.partition] is not None and letter.offset < done[letter.partition]
        finally:
            await cursor.stop()
    return letters


async def replay(
    bootstrap: str, topic: str, group: str | None = None, *, dry_run: bool = False, event_ids: set[str] | None = None
) -> dict[str, Any]:
    """Replay `topic`'s dead letters for `group` (every group found, when None); returns what was done.

    With `event_ids`, only those messages are sent, and the cursors stay where they are: a later whole
    replay sends them again, which their group then finds already handled."""
    groups = (
        [group]
        if group
        else sorted({letter.group for letter in await list_dead_letters(bootstrap, topic) if letter.group})
    )
    summary: dict[str, dict[str, Any]] = {}
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all", enable_idempotence=True)
    await producer.start()
    try:
        for name in groups:
            summary[name] = await _replay_group(bootstrap, producer, topic, name, dry_run, event_ids)
    finally:
        await producer.stop()
    return {"topic": topic, "dry_run": dry_run, "groups": summary}


async def _replay_group(
    bootstrap: str, producer: AIOKafkaProducer, topic: str, group: str, dry_run: bool, event_ids: set[str] | None
) -> dict[str, Any]:
    cursor = fresh_consumer(bootstrap, replay_cursor(group))
    await cursor.start()
    try:
        records = await read_to_end(cursor, await _partitions(bootstrap, dlq(topic)), from_committed=event_ids is None)
        mine = [(r, _dead_letter(r, topic)) for r in records if _headers(r).get("group") == group]
        if event_ids is not None:
            mine = [(r, letter) for r, letter in mine if letter.event_id in event_ids]
        sendable = [(r, letter) for r, letter in mine if not letter.unreadable]
        outcome = {
            "replayed": len(sendable),
            "unreadable_left": len(mine) - len(sendable),
            "event_ids": [letter.event_id for _, letter in sendable],
        }
        if dry_run or not records:
            return outcome
        sent = [
            await producer.send(
                letter.source_topic,
                r.value,
                key=r.key,
                headers=[
                    (REPLAY_FOR, group.encode()),
                    ("replayed_from", f"{r.topic}/{r.partition}/{r.offset}".encode()),
                ],
            )
            for r, letter in sendable
        ]
        await asyncio.gather(*sent)  # on the bus (acks=all) before the cursor moves
        if event_ids is not None:
            return outcome
        last: dict[TopicPartition, int] = {}
        for r in records:
            tp = TopicPartition(r.topic, r.partition)
            last[tp] = max(last.get(tp, -1), r.offset)
        await cursor.commit({tp: offset + 1 for tp, offset in last.items()})
        return outcome
    finally:
        await cursor.stop()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m services.runtime.dlq", description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    listing = commands.add_parser("list", help="print each dead letter of a topic as a JSON line")
    listing.add_argument("topic", help="the source topic, e.g. portal.events")
    again = commands.add_parser("replay", help="publish a topic's dead letters again for the group that failed them")
    again.add_argument("topic", help="the source topic, e.g. portal.events")
    again.add_argument("--group", help="only this consumer group's dead letters (default: every group's)")
    again.add_argument("--dry-run", action="store_true", help="say what would be replayed; send nothing")
    again.add_argument(
        "--event-id",
        action="append",
        dest="event_ids",
        help="only this message (repeatable); the replay cursor stays where it is",
    )
    args = parser.parse_args(argv)
    bootstrap = ServiceSettings().kafka_bootstrap_servers
    if args.command == "list":
        for letter in asyncio.run(list_dead_letters(bootstrap, args.topic)):
            print(json.dumps({**asdict(letter), "unreadable": letter.unreadable}))
    else:
        print(
            json.dumps(
                asyncio.run(
                    replay(
                        bootstrap,
                        args.topic,
                        args.group,
                        dry_run=args.dry_run,
                        event_ids=set(args.event_ids) if args.event_ids else None,
                    )
                )
            )
        )


if __name__ == "__main__":
    main(sys.argv[1:])
