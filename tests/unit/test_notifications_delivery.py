"""One claim of the sender loop, the service built through bootstrap.build with an in-memory store and sender
standing in for the database and SMTP."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta

import pytest
from pydantic import ValidationError

from contracts import utcnow
from services.notifications import bootstrap, delivery_handlers
from services.notifications.config import Settings
from services.notifications.delivery import DeliveryLoop
from services.notifications.domain import Brand, Claim, Notification, Prefs, Recipient
from services.notifications.unit_of_work import UnitOfWork

SETTINGS = Settings(retry_base_seconds=10, retry_max_delay_seconds=600, give_up_after_seconds=3600)


class FakeStore:
    """Hands out the claims it is given, once each, and keeps what is recorded."""

    def __init__(self, *claims: Claim):
        self.claims = list(claims)
        self.records: list[dict] = []

    async def ensure_indexes(self):
        pass

    async def claim_due(self, now, lease):
        return self.claims.pop(0) if self.claims else None

    async def record(self, notification_id, **outcome):
        self.records.append({"id": notification_id, **outcome})

    async def brand(self, tenant_id, session=None):
        return Brand(name="Bos")

    async def prefs_of(self, tenant_id, session=None):
        return Prefs()

    async def contact(self, tenant_id, contact_id, session):
        return None


class FakeSender:
    sender = "akkoord@example.nl"

    def __init__(self, hang: bool = False):
        self.sent: list = []
        self.hang = hang

    async def send(self, message):
        if self.hang:
            await asyncio.Event().wait()
        self.sent.append(message)


def claimed(attempt_count: int, created_ago: timedelta, unfinished_since: datetime | None = None) -> Claim:
    notification = Notification(
        id="n1",
        tenant_id="t1",
        task_id="k1",
        event_id="e1",
        kind="staff_signed",
        recipient=Recipient(email="office@example.nl", language="en"),
        facts={"task_title": "Paint", "contact_name": "Jan"},
        attempt_count=attempt_count,
        created_at=utcnow() - created_ago,
        next_attempt_at=utcnow(),
    )
    return Claim(notification=notification, unfinished_since=unfinished_since)


def notifications(store: FakeStore, sender: FakeSender, settings: Settings = SETTINGS, **more) -> UnitOfWork:
    return bootstrap.build(settings, store=store, sender=sender, **more).uow


async def test_an_attempt_that_did_not_finish_is_recorded_and_rescheduled_by_the_backoff_without_sending():
    now = utcnow()
    started = now - timedelta(minutes=3)
    store, sender = FakeStore(), FakeSender()

    await delivery_handlers.deliver(
        claimed(3, timedelta(minutes=5), unfinished_since=started), notifications(store, sender, clock=lambda: now)
    )

    [record] = store.records
    assert sender.sent == []
    assert record["status"] == "pending" and record["attempted"] is False  # this claim's own count taken back
    assert record["error"].startswith("the attempt did not finish")
    # two attempts before the lost one: the third wait, 10 * 2**1 s, from the service's clock
    assert record["next_attempt_at"] == now + timedelta(seconds=20) and record["now"] == now


async def test_an_attempt_that_did_not_finish_past_the_give_up_time_fails_the_mail():
    started = utcnow() - timedelta(minutes=3)
    store, sender = FakeStore(), FakeSender()

    await delivery_handlers.deliver(
        claimed(5, timedelta(hours=2), unfinished_since=started), notifications(store, sender)
    )

    [record] = store.records
    assert sender.sent == []
    assert record["status"] == "failed" and record["attempted"] is False and record["next_attempt_at"] is None
    assert record["error"].startswith("gave up: the attempt did not finish")


async def test_a_claimed_attempt_is_sent_and_recorded_as_counted():
    store, sender = FakeStore(), FakeSender()

    await delivery_handlers.deliver(claimed(1, timedelta(seconds=1)), notifications(store, sender))

    assert len(sender.sent) == 1
    assert [(r["status"], r["attempted"]) for r in store.records] == [("sent", True)]


async def test_an_attempt_that_outlasts_its_deadline_is_deferred_by_the_backoff():
    settings = SETTINGS.model_copy(update={"smtp_timeout_seconds": 0.05, "fetch_timeout_seconds": 0.05})
    store = FakeStore()

    await delivery_handlers.attempt(
        claimed(1, timedelta(seconds=1)).notification, notifications(store, FakeSender(hang=True), settings)
    )

    [record] = store.records
    assert record["status"] == "pending" and "took longer than 0.1 s" in record["error"]
    assert abs((record["next_attempt_at"] - utcnow()) - timedelta(seconds=10)) < timedelta(seconds=2)


async def test_the_loop_makes_every_due_claim_until_none_is_left():
    store, sender = FakeStore(claimed(1, timedelta(seconds=1)), claimed(1, timedelta(seconds=2))), FakeSender()

    assert await DeliveryLoop(notifications(store, sender)).deliver_due() == 2

    assert len(sender.sent) == 2 and [r["status"] for r in store.records] == ["sent", "sent"]


def test_a_lease_that_could_end_during_an_attempt_is_refused():
    assert Settings(smtp_timeout_seconds=20, fetch_timeout_seconds=10, lease_seconds=31).lease_seconds == 31
    with pytest.raises(ValidationError, match="NOTIFICATIONS_LEASE_SECONDS must be longer"):
        Settings(smtp_timeout_seconds=20, fetch_timeout_seconds=10, lease_seconds=30)
