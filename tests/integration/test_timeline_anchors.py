"""Timeline's verify holds each task's chain against the heads signing anchored in its evidence."""

from __future__ import annotations

import httpx
import pytest

from contracts import new_id
from contracts.topics import SIGNING_EVENTS, TASKS_EVENTS
from services.runtime.mongo import connect
from services.timeline import chain
from tests.support import approval_events as ev
from tests.support.accepted import publish_accepted
from tests.support.bus import publish, read_all
from tests.support.signed_events import a_signature_png, a_task_signed, serving_signature
from tests.support.waiting import eventually


@pytest.fixture(scope="module")
def services(stack):
    return stack.start("timeline"), stack.start("signing")


@pytest.fixture
async def tenant(infra, services):
    tenant_id, secret = new_id(), f"staff-{new_id()}"
    await publish(infra.kafka_bootstrap, TASKS_EVENTS, *ev.tenant(tenant_id, secret))
    return tenant_id, {"Authorization": f"Bearer {secret}"}


async def sealed_for(bootstrap: str, action_id: str) -> dict | None:
    return next(
        (
            b
            for b, _ in await read_all(bootstrap, SIGNING_EVENTS)
            if b["type"] == "signature.sealed" and b["payload"]["action_id"] == action_id
        ),
        None,
    )


async def verify(url: str, auth: dict, task_id: str) -> dict | None:
    async with httpx.AsyncClient(base_url=url, headers=auth) as client:
        r = await client.get(f"/v1/tasks/{task_id}/timeline/verify")
    return r.json() if r.status_code == 200 else None


async def rewrite_consistently(mongodb_uri: str, tenant_id: str, task_id: str) -> list[dict]:
    """What someone with the timeline's database could do: change an entry and recompute every hash after it.
    Returns the entries as they were."""
    client = connect(mongodb_uri)
    try:
        db = client["akkoord_timeline"]
        docs = (
            await db["timeline_entries"]
            .find({"tenant_id": tenant_id, "task_id": task_id, "audience": "staff"})
            .sort("seq", 1)
            .to_list(None)
        )
        prev = chain.GENESIS
        for i, doc in enumerate(docs):
            entry = {k: v for k, v in doc.items() if k not in ("_id", "seq", "prev_hash", "content_hash", "hash")}
            if i == 0:
                entry["summary"] = entry["summary"] + " (and the price was doubled)"
            sealed = chain.seal(entry, doc["seq"], prev)
            await db["timeline_entries"].replace_one({"_id": doc["_id"]}, {"_id": doc["_id"], **sealed})
            prev = sealed["hash"]
        await db["timeline_heads"].update_one(
            {"_id": f"{tenant_id}:{task_id}:staff"}, {"$set": {"seq": docs[-1]["seq"], "hash": prev}}
        )
        return docs
    finally:
        await client.close()


async def put_back(mongodb_uri: str, docs: list[dict]) -> None:
    """The entries as they were (a later rebuild in this test session must find the timeline untouched)."""
    client = connect(mongodb_uri)
    try:
        db = client["akkoord_timeline"]
        for doc in docs:
            await db["timeline_entries"].replace_one({"_id": doc["_id"]}, doc)
        last = docs[-1]
        await db["timeline_heads"].update_one(
            {"_id": f"{last['tenant_id']}:{last['task_id']}:staff"},
            {"$set": {"seq": last["seq"], "hash": last["hash"]}},
        )
    finally:
        await client.close()


async def test_a_chain_rewritten_after_its_head_was_anchored_in_signing_evidence_fails_verify(infra, services, tenant):
    timeline, _ = services
    tenant_id, auth = tenant
    png = a_signature_png()
    with serving_signature(png) as image_url:
        # given a task the timeline knows, then signed, and its certificate sealed with the timeline's head
        signed = a_task_signed(tenant_id, image_url, png)
        await publish(infra.kafka_bootstrap, TASKS_EVENTS, ev.task_created(tenant_id, signed.task_id))
        await eventually(lambda: verify(timeline.url, auth, signed.task_id), what="the task on the timeline")
        await publish_accepted(infra.kafka_bootstrap, signed)
        await eventually(
            lambda: sealed_for(infra.kafka_bootstrap, signed.payload.action_id), timeout=60, what="signature.sealed"
        )
    verdict = await verify(timeline.url, auth, signed.task_id)
    assert verdict["valid"] is True
    assert verdict["anchors"]["compared"] is True and verdict["anchors"]["checked"] == 1
    assert verdict["anchors"]["mismatched"] == [] and verdict["anchors"]["unanchored"] == []
    # when the staff chain is rewritten with every hash recomputed (it verifies on its own)
    originals = await rewrite_consistently(infra.mongodb_uri, tenant_id, signed.task_id)
    try:
        verdict = await verify(timeline.url, auth, signed.task_id)
        assert verdict["audiences"]["staff"]["valid"] is True
        # then verify reports the mismatch with the head signing anchored
        assert verdict["valid"] is False
        (mismatch,) = verdict["anchors"]["mismatched"]
        assert mismatch["audience"] == "staff" and mismatch["found"] != mismatch["anchored"]
    finally:
        await put_back(infra.mongodb_uri, originals)
    assert (await verify(timeline.url, auth, signed.task_id))["valid"] is True


async def test_a_seal_made_while_the_timeline_was_away_says_it_is_not_anchored(infra, stack, services, tenant):
    timeline, signing = services
    tenant_id, auth = tenant
    png = a_signature_png()
    # given the timeline is stopped when a task is signed and sealed
    stack.stop("timeline")
    try:
        with serving_signature(png) as image_url:
            signed = a_task_signed(tenant_id, image_url, png)
            await publish_accepted(infra.kafka_bootstrap, signed)
            sealed = await eventually(
                lambda: sealed_for(infra.kafka_bootstrap, signed.payload.action_id), timeout=60, what="signature.sealed"
            )
    finally:
        timeline = stack.start("timeline")
    # then the evidence says the seal has no anchor, and why
    async with httpx.AsyncClient(base_url=signing.url, headers=auth) as client:
        evidence = await eventually(lambda: _evidence(client, sealed["payload"]["evidence_id"]), what="evidence")
    assert evidence["anchored"] is False and "without a timeline anchor" in evidence["anchor_note"]
    # and the timeline's verify names the unanchored signing
    verdict = await eventually(lambda: verify(timeline.url, auth, signed.task_id), what="the task on the timeline")
    assert verdict["anchors"]["unanchored"] == [sealed["payload"]["evidence_id"]]
    assert verdict["valid"] is True  # nothing contradicts the chain; there is just nothing to hold it against


async def _evidence(client: httpx.AsyncClient, evidence_id: str) -> dict | None:
    r = await client.get(f"/v1/evidence/{evidence_id}")
    return r.json() if r.status_code == 200 and r.json()["seals"] else None
