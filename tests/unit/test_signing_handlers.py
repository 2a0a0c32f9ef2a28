"""Signing handlers with in-memory fakes: anchoring evidence to the task's timeline."""

from __future__ import annotations

from contracts import utcnow
from services.signing.config import Settings
from services.signing.domain import evidence_from_signed
from services.signing.handlers import SigningHandlers
from tests.integration.signed_events import a_signature_png, a_task_signed


class FakeTimeline:
    def __init__(self, answer):
        self.answer, self.asked = answer, []

    async def get_json_or_none(self, url: str):
        self.asked.append(url)
        return self.answer


class FakeStore:
    def __init__(self):
        self.anchors = {}

    async def set_anchor(self, tenant_id, evidence_id, anchor, session):
        self.anchors[(tenant_id, evidence_id)] = anchor


def handlers(answer) -> tuple[SigningHandlers, FakeStore, FakeTimeline]:
    store, timeline = FakeStore(), FakeTimeline(answer)
    return SigningHandlers(settings=Settings(), store=store, outbox=None, keys=None, fetcher=timeline), store, timeline


async def test_the_evidence_is_anchored_to_the_staff_timeline_head():
    evidence = evidence_from_signed(a_task_signed("t-1", "http://x", a_signature_png()), utcnow())
    signing, store, timeline = handlers({"heads": {"staff": {"seq": 4, "hash": "ab" * 32},
                                                   "portal": {"seq": 2, "hash": "cd" * 32}}})
    anchored = await signing._anchored(evidence, session=None)
    assert (anchored.timeline_anchor.seq, anchored.timeline_anchor.hash) == (4, "ab" * 32)
    assert store.anchors[("t-1", evidence.evidence_id)] == anchored.timeline_anchor
    assert f"/internal/v1/tasks/{evidence.task_id}/timeline/head?tenant_id=t-1" in timeline.asked[0]


async def test_a_timeline_that_does_not_answer_leaves_the_evidence_unanchored():
    evidence = evidence_from_signed(a_task_signed("t-1", "http://x", a_signature_png()), utcnow())
    signing, store, _ = handlers(None)
    assert (await signing._anchored(evidence, session=None)).timeline_anchor is None
    assert store.anchors == {}
