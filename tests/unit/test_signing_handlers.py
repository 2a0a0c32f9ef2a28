"""Signing handlers with in-memory fakes: anchoring evidence to the task's timeline, sealing off the loop."""

from __future__ import annotations

import asyncio

from contracts import utcnow
from services.signing import bootstrap, handlers
from services.signing.config import Settings
from services.signing.domain import evidence_from_signed
from services.signing.unit_of_work import UnitOfWork
from tests.support.signed_events import a_signature_png, a_task_signed
from tests.unit.fake_session import FAKE_SESSION


class FakeTimeline:
    def __init__(self, answer):
        self.answer, self.asked = answer, []

    async def aclose(self):
        pass

    async def get_json_or_none(self, url: str):
        self.asked.append(url)
        return self.answer


class FakeStore:
    def __init__(self):
        self.anchors = {}

    async def ensure_indexes(self):
        pass

    async def set_anchor(self, tenant_id, evidence_id, anchor, session):
        self.anchors[(tenant_id, evidence_id)] = anchor


def signing_with(answer) -> tuple[UnitOfWork, FakeStore, FakeTimeline]:
    store, timeline = FakeStore(), FakeTimeline(answer)
    return bootstrap.build(Settings(), store=store, fetcher=timeline, tenants=None).uow, store, timeline


async def test_the_evidence_is_anchored_to_the_staff_timeline_head():
    evidence = evidence_from_signed(a_task_signed("t-1", "http://x", a_signature_png()), utcnow())
    signing, store, timeline = signing_with(
        {"heads": {"staff": {"seq": 4, "hash": "ab" * 32}, "portal": {"seq": 2, "hash": "cd" * 32}}}
    )
    anchored = await handlers._anchored(signing, evidence, session=None)
    assert (anchored.timeline_anchor.seq, anchored.timeline_anchor.hash) == (4, "ab" * 32)
    assert store.anchors[("t-1", evidence.evidence_id)] == anchored.timeline_anchor
    assert f"/internal/v1/tasks/{evidence.task_id}/timeline/head?tenant_id=t-1" in timeline.asked[0]


async def test_a_timeline_that_does_not_answer_leaves_the_evidence_unanchored():
    evidence = evidence_from_signed(a_task_signed("t-1", "http://x", a_signature_png()), utcnow())
    signing, store, _ = signing_with(None)
    assert (await handlers._anchored(signing, evidence, session=None)).timeline_anchor is None
    assert store.anchors == {}


class SealingStore(FakeStore):
    def __init__(self):
        super().__init__()
        self.files, self.seals, self.records = {}, [], {}

    async def record(self, evidence, session):
        return self.records.setdefault((evidence.tenant_id, evidence.action_id), evidence) is evidence

    async def for_action(self, tenant_id, action_id, session):
        return self.records.get((tenant_id, action_id))

    async def sealed_pdf(self, tenant_id, pdf_id, session):
        return None

    async def put_file(self, file_id, data, tenant_id, digest):
        return self.files.setdefault(file_id, data)

    async def get_file(self, file_id):
        return self.files.get(file_id)

    async def save_seal(self, record, session):
        self.seals.append(record)


class SignatureImages(FakeTimeline):
    async def get(self, url: str) -> bytes:
        return a_signature_png()


class Outbox:
    def __init__(self):
        self.added = []

    async def add(self, session, topic, message):
        self.added.append(message)


class LoopWatchingSealer:
    """The real sealer, noting whether it was called on a thread that runs an event loop."""

    def __init__(self, sealer):
        self.sealer, self.called_on_a_loop = sealer, []

    def seal(self, pdf: bytes, evidence_id: str) -> bytes:
        try:
            asyncio.get_running_loop()
            self.called_on_a_loop.append(True)
        except RuntimeError:
            self.called_on_a_loop.append(False)
        return self.sealer.seal(pdf, evidence_id)


async def test_the_approval_certificate_is_sealed_off_the_event_loop():
    # given the signing handlers with the real sealer
    from services.signing.adapters.seal import Sealer, check_pdf
    from tests.support.seals import KEY, TRUSTED

    store, outbox = SealingStore(), Outbox()
    sealer = LoopWatchingSealer(Sealer(KEY))
    signing = bootstrap.build(
        Settings(), store=store, outbox=outbox, fetcher=SignatureImages(None), tenants=None, sealer=sealer
    ).uow.bound(FAKE_SESSION)

    # when a signed task's certificate is sealed
    await handlers.seal_approval_certificate(a_task_signed("t-1", "http://x", a_signature_png()), signing)

    # then the seal was made on a worker thread, not on the loop, and it is a valid seal
    assert sealer.called_on_a_loop == [False]
    (sealed,) = store.files.values()
    assert (await asyncio.to_thread(check_pdf, sealed, KEY, TRUSTED)).valid  # pyHanko cannot run on a loop either
    # (the evidence group had not recorded the signing yet: the certificate's group recorded it first)
    assert [m.type for m in outbox.added] == ["evidence.recorded", "signature.sealed"]
