"""Webhook use cases with in-memory fakes: what one attempt at a claimed delivery sends and records."""

from __future__ import annotations

from datetime import timedelta

from contracts import utcnow
from services.automation import bootstrap, webhook_handlers
from services.automation.config import Settings
from services.automation.unit_of_work import UnitOfWork

SETTINGS = Settings(webhook_retry_base_seconds=5, webhook_max_delay_seconds=60, webhook_give_up_after_seconds=3600)
ENDPOINT = {
    "_id": "e1",
    "tenant_id": "t1",
    "url": "https://hooks.example.com/",
    "secret": "whsec_a2V5",
    "enabled": True,
}


class FakeWebhooks:
    def __init__(self):
        self.recorded: list[dict] = []

    async def ensure_indexes(self):
        pass

    async def endpoint(self, tenant_id, endpoint_id, session=None):
        return ENDPOINT if (tenant_id, endpoint_id) == ("t1", "e1") else None

    async def record_attempt(self, delivery_id, attempt, **outcome):
        self.recorded.append({"id": delivery_id, "attempt": attempt, **outcome})


class FakeSender:
    def __init__(self, answer: tuple[int | None, str | None]):
        self.answer, self.sent = answer, []

    async def post(self, url, body, headers):
        self.sent.append((url, body, headers))
        return self.answer


def automation(answer=(204, None)) -> tuple[UnitOfWork, FakeWebhooks, FakeSender]:
    webhooks, sender = FakeWebhooks(), FakeSender(answer)
    return bootstrap.build(SETTINGS, webhooks=webhooks, sender=sender).uow, webhooks, sender


def claimed(attempt_count: int, *, age: timedelta = timedelta(seconds=1), unfinished_since=None) -> dict:
    """A delivery as the store's claim returns it: this attempt already counted."""
    return {
        "_id": "msg_e1_ev1",
        "tenant_id": "t1",
        "endpoint_id": "e1",
        "body": '{"type":"task.signed"}',
        "attempt_count": attempt_count,
        "created_at": utcnow() - age,
        "unfinished_since": unfinished_since,
    }


async def test_a_delivered_attempt_is_recorded_with_its_status_and_signed_with_the_endpoints_secret():
    uow, webhooks, sender = automation((204, None))
    await webhook_handlers.attempt(claimed(1), uow)
    [(url, body, headers)] = sender.sent
    assert url == ENDPOINT["url"] and headers["webhook-id"] == "msg_e1_ev1" and headers["webhook-signature"]
    [record] = webhooks.recorded
    assert record["status"] == "delivered" and record["attempt"]["status_code"] == 204


async def test_a_refused_answer_is_retried_after_the_backoff_of_the_attempts_counted_so_far():
    uow, webhooks, _ = automation((503, None))
    before = utcnow()
    await webhook_handlers.attempt(claimed(2), uow)
    [record] = webhooks.recorded
    # the second failure waits twice the base
    assert record["status"] == "pending" and record.get("sent", True)
    assert timedelta(seconds=10) <= record["next_attempt_at"] - before < timedelta(seconds=11)


async def test_an_attempt_that_did_not_finish_is_recorded_as_failed_and_retried_on_the_schedule_sending_nothing():
    # given a delivery claimed again after its first attempt never recorded an outcome (the process ended)
    uow, webhooks, sender = automation()
    started = utcnow() - timedelta(seconds=60)
    before = utcnow()
    await webhook_handlers.attempt(claimed(2, unfinished_since=started), uow)
    # then nothing is sent now, the lost attempt is recorded, and the next one follows the backoff of one failure
    assert sender.sent == []
    [record] = webhooks.recorded
    assert record["attempt"]["at"] == started and "did not finish" in record["attempt"]["error"]
    assert record["status"] == "pending" and record["sent"] is False
    assert timedelta(seconds=5) <= record["next_attempt_at"] - before < timedelta(seconds=6)


async def test_a_lost_attempt_past_the_give_up_time_marks_the_delivery_failed():
    uow, webhooks, sender = automation()
    await webhook_handlers.attempt(claimed(7, age=timedelta(hours=2), unfinished_since=utcnow()), uow)
    [record] = webhooks.recorded
    assert sender.sent == [] and record["status"] == "failed"
    assert record["next_attempt_at"] is None and record["finished_at"]


async def test_a_removed_endpoint_fails_its_delivery_without_sending():
    uow, webhooks, sender = automation()
    await webhook_handlers.attempt({**claimed(1), "endpoint_id": "gone"}, uow)
    assert sender.sent == [] and webhooks.recorded[0]["status"] == "failed"
