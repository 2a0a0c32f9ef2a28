"""`python -m services.timeline rebuild`: build the projection again from Kafka (services/timeline/rebuilding.py)
beside the live one, in the database `<TIMELINE_DATABASE>_rebuild`, and switch to it only when no live entry
would be lost.

It refuses to run while timeline's consumers do (stop the timeline service first): an entry the live
projection appended during the rebuild would take a place the rebuild is about to restore.
"""

from __future__ import annotations

from dataclasses import replace

from contracts.topics import Groups
from services.runtime.bus import ensure_topics
from services.runtime.consumer import Tracking
from services.runtime.outbox import Outbox, OutboxRelay
from services.timeline.adapters.mongo import TimelineStore
from services.timeline.adapters.replay import KafkaHistory, group_has_members
from services.timeline.bootstrap import build
from services.timeline.config import Settings
from services.timeline.entrypoints.subscribers import PROJECTED
from services.timeline.rebuilding import Staging
from services.timeline.rebuilding import rebuild as rebuild_timeline


class TimelineRunning(RuntimeError):
    pass


class RebuildRefused(RuntimeError):
    def __init__(self, report: dict):
        super().__init__(
            f"{report['entries_lost']} entries of the live timelines are not in the rebuilt ones "
            "(their events are no longer on Kafka, or build differently now); the live timelines "
            f"are kept as they were. First of them: {report['lost'][:3]}"
        )
        self.report = report


async def rebuild(settings: Settings) -> dict:
    bootstrap = settings.kafka_bootstrap_servers
    if await group_has_members(bootstrap, Groups.TIMELINE):
        raise TimelineRunning(
            f"consumer group {Groups.TIMELINE} is active: stop the timeline service, then "
            "rebuild (an entry appended meanwhile would take a place the rebuild restores)"
        )
    await ensure_topics(bootstrap)
    service = build(settings)
    runtime, live = service.runtime, service.uow
    staging_db = runtime.client[f"{settings.database}_rebuild"]
    staging_outbox = Outbox(runtime.client, staging_db)
    staging_store = TimelineStore(staging_db, staff_keys=runtime.staff_keys.keys)
    # The same unit of work over the staging database.
    staging = Staging(
        timeline=replace(live, store=staging_store, outbox=staging_outbox),
        tracking=Tracking(staging_outbox),
        publish=lambda: _relay_all(OutboxRelay(runtime.outbox, runtime.broker)),
    )
    await runtime.outbox.ensure_indexes()
    await runtime.broker.connect()
    try:
        # Places the live projection recorded but had not yet published belong in the log before it is read.
        await _relay_all(OutboxRelay(runtime.outbox, runtime.broker))
        report = await rebuild_timeline(live, staging, KafkaHistory(bootstrap), frozenset(PROJECTED))
    finally:
        await runtime.broker.stop()
        await runtime.client.close()
    if not report["switched"]:
        raise RebuildRefused(report)
    return report


async def _relay_all(relay: OutboxRelay) -> None:
    while await relay.relay_once():
        pass
