"""Signing against the real broker and database: evidence per signing, sealed certificates, verification."""

from __future__ import annotations

import hashlib
import uuid

import httpx
import pytest
from prometheus_client import REGISTRY
from pymongo import AsyncMongoClient
from pymongo.errors import OperationFailure

from contracts.messages import DocumentStamped, DocumentStampedPayload
from contracts.topics import DOCUMENTS_EVENTS
from services.runtime.consumer import Tracking
from services.runtime.dlq import replay
from services.runtime.outbox import Outbox
from services.signing import bootstrap, handlers
from services.signing.adapters.mongo import EvidenceStore
from services.signing.config import Settings
from tests.integration.signing_api import signing_events_for
from tests.integration.staff_keys import a_tenant_with_staff_key
from tests.support.accepted import publish_accepted
from tests.support.bus import publish, read_all
from tests.support.pdfs import a_pdf
from tests.support.signed_events import (
    a_document_signed,
    a_signature_png,
    a_task_signed,
    serving,
    serving_signature,
)
from tests.support.waiting import eventually


@pytest.fixture(scope="module")
def signing(stack):
    return stack.start("signing")


def a_stamp_of(signed, document_id: str, digest: str, pdf_url: str) -> DocumentStamped:
    """The document.stamped documents emits for a signed document (version v1 stamped as v2)."""
    return DocumentStamped(
        tenant_id=signed.tenant_id,
        task_id=signed.task_id,
        payload=DocumentStampedPayload(
            document_id=document_id,
            action_id=signed.payload.action_id,
            source_version_id="v1",
            version_id="v2",
            digest=digest,
            pdf_url=pdf_url,
            preview_url=pdf_url,
            signed_event_id=signed.event_id,
        ),
    )


async def dead_letters_of(infra, stamped: DocumentStamped) -> list[dict]:
    return [
        h
        for body, h in await read_all(infra.kafka_bootstrap, f"{DOCUMENTS_EVENTS}.dlq")
        if body.get("event_id") == stamped.event_id
    ]


async def held_stamp(held_stamps, stamped: DocumentStamped) -> dict | None:
    """signing's hold of `stamped`, while it waits for its signing."""
    return await held_stamps.find_one(
        {"_id": f"{stamped.tenant_id}:{stamped.payload.action_id}", "event": {"$exists": True}}
    )


async def test_a_task_signed_twice_gives_exactly_one_evidence_record_and_one_sealed_certificate(infra, signing):
    tenant_id, key = await a_tenant_with_staff_key(infra.kafka_bootstrap, signing.url, "/v1/evidence")
    auth = {"Authorization": f"Bearer {key}"}
    png = a_signature_png()
    with serving_signature(png) as image_url:
        # given a task signed in the portal, delivered twice
        signed = a_task_signed(tenant_id, image_url, png)
        await publish_accepted(infra.kafka_bootstrap, signed, signed)

        # then the evidence is recorded and the certificate sealed (its image came from the portal),
        # by two independent consumer groups, so in either order
        async def recorded_and_sealed() -> list[dict]:
            events = await signing_events_for(infra.kafka_bootstrap, signed.payload.action_id)
            return events if {e["type"] for e in events} == {"evidence.recorded", "signature.sealed"} else []

        events = await eventually(recorded_and_sealed, timeout=60, what="evidence.recorded and signature.sealed")

    assert sorted(e["type"] for e in events) == ["evidence.recorded", "signature.sealed"]
    async with httpx.AsyncClient(base_url=signing.url) as client:
        records = (await client.get("/v1/evidence", params={"task_id": signed.task_id}, headers=auth)).json()
        assert len(records["evidence"]) == 1
        record = records["evidence"][0]
        assert record["signer"]["email"] == "jan@example.com"
        assert record["ip"] == "203.0.113.7" and record["auth_method"] == "magic_link"
        assert record["fields"] == {"po_number": "PO-77", "satisfied": True}
        assert record["consent_version"] == "2026-01"
        assert [s["kind"] for s in record["seals"]] == ["approval_certificate"]

        # and staff can download the sealed certificate, which anyone can verify
        pdf = (await client.get(record["seals"][0]["url"], headers=auth)).content
        report = (await client.post("/v1/verify", files={"file": ("c.pdf", pdf, "application/pdf")})).json()
        assert report["verified"] and report["matches_stored"] and report["evidence_id"] == record["id"]

        # and a changed byte is detected
        tampered = pdf.replace(b"Repaint the hallway", b"Repaint the kitchen", 1)
        if tampered == pdf:  # the text may be compressed; flip a byte inside the first content stream
            at = pdf.index(b"stream") + 20
            tampered = pdf[:at] + bytes([pdf[at] ^ 0xFF]) + pdf[at + 1 :]
        report = (await client.post("/v1/verify", files={"file": ("c.pdf", tampered, "application/pdf")})).json()
        assert not report["verified"] and not report["matches_stored"]

        # and another tenant's key sees nothing
        _, other = await a_tenant_with_staff_key(infra.kafka_bootstrap, signing.url, "/v1/evidence")
        r = await client.get(f"/v1/evidence/{record['id']}", headers={"Authorization": f"Bearer {other}"})
        assert r.status_code == 404

        # and the time the seal took is in the service's metrics
        metrics = (await client.get(f"{signing.ops_url}/metrics")).text
        assert 'akkoord_pdf_work_seconds_count{operation="seal"}' in metrics


async def test_a_second_signed_event_for_the_same_action_adds_no_evidence(infra, signing):
    tenant_id, key = await a_tenant_with_staff_key(infra.kafka_bootstrap, signing.url, "/v1/evidence")
    png = a_signature_png()
    # The signature image is gone (signing's own 404): the certificate is dead-lettered at once instead of
    # retried for minutes as an outage, which would hold up the certificates of the tests after this one.
    gone = f"{signing.url}/internal/v1/signatures/gone"
    first = a_task_signed(tenant_id, gone, png)
    again = first.model_copy(update={"event_id": "another-" + first.event_id})
    await publish_accepted(infra.kafka_bootstrap, first, again)

    async def recorded() -> list[dict]:
        return [
            e
            for e in await signing_events_for(infra.kafka_bootstrap, first.payload.action_id)
            if e["type"] == "evidence.recorded"
        ]

    await eventually(recorded, what="evidence.recorded")
    # a later signing of another action of the same task rides the same partition, so once it is
    # recorded, the duplicate before it has been handled too
    later = a_task_signed(tenant_id, gone, png)
    later = later.model_copy(
        update={"task_id": first.task_id, "payload": later.payload.model_copy(update={"task": first.payload.task})}
    )
    await publish_accepted(infra.kafka_bootstrap, later)

    async def both_recorded() -> list:
        async with httpx.AsyncClient(base_url=signing.url) as client:
            r = await client.get(
                "/v1/evidence", params={"task_id": first.task_id}, headers={"Authorization": f"Bearer {key}"}
            )
        return r.json()["evidence"] if len(r.json()["evidence"]) >= 2 else []

    records = await eventually(both_recorded, what="the later signing recorded")
    assert sorted(r["action_id"] for r in records) == sorted([first.payload.action_id, later.payload.action_id])
    assert len(await recorded()) == 1


async def test_verify_reports_an_unsealed_pdf_as_not_verified(signing):
    async with httpx.AsyncClient(base_url=signing.url) as client:
        report = (await client.post("/v1/verify", files={"file": ("x.pdf", a_pdf("not sealed"))})).json()
        garbage = (await client.post("/v1/verify", files={"file": ("x.pdf", b"garbage")})).json()
    assert report["sealed"] is False and report["verified"] is False
    assert garbage["verified"] is False and garbage["problem"]


async def test_a_stamped_document_that_overtakes_its_signing_is_held_then_sealed_when_the_signing_comes(infra, signing):
    # given a document signed and stamped, where signing sees document.stamped (documents.events) before the
    # document.signed it follows (portal.events), as a consumer behind on portal.events does
    tenant_id, key = await a_tenant_with_staff_key(infra.kafka_bootstrap, signing.url, "/v1/evidence")
    png, stamped_pdf = a_signature_png(), a_pdf("Work order 9, stamped")
    with serving_signature(png) as image_url, serving(stamped_pdf, "application/pdf", "/stamped.pdf") as pdf_url:
        signed = a_document_signed(tenant_id, image_url, png, "doc-9", "v1", "sha256:" + "1" * 64)
        stamped = a_stamp_of(signed, "doc-9", hashlib.sha256(stamped_pdf).hexdigest(), pdf_url)
        await publish(infra.kafka_bootstrap, DOCUMENTS_EVENTS, stamped)
        held = AsyncMongoClient(infra.mongodb_uri)["akkoord_signing"]["held_stamps"]
        await eventually(lambda: held_stamp(held, stamped), timeout=40, what="the stamp held")
        assert await signing_events_for(infra.kafka_bootstrap, signed.payload.action_id) == []

        # when the signing arrives
        await publish_accepted(infra.kafka_bootstrap, signed)

        # then its evidence is recorded and the stamped document sealed, once, and nothing is dead-lettered
        async def sealed():
            return [
                e
                for e in await signing_events_for(infra.kafka_bootstrap, signed.payload.action_id)
                if e["type"] == "signature.sealed"
            ]

        [event] = await eventually(sealed, timeout=60, what="the stamped document sealed")
        assert event["payload"]["kind"] == "sealed_document"
    async with httpx.AsyncClient(base_url=signing.url, headers={"Authorization": f"Bearer {key}"}) as client:
        record = (await client.get(f"/v1/evidence/{event['payload']['evidence_id']}")).json()
        assert record["document"]["digest_after"] == stamped.payload.digest
        assert record["document"]["stamped_version_id"] == "v2"
    assert await held_stamp(held, stamped) is None
    assert [
        b
        for b, _ in await read_all(infra.kafka_bootstrap, f"{DOCUMENTS_EVENTS}.dlq")
        if b.get("event_id") == stamped.event_id
    ] == []


async def test_a_stamp_for_a_task_signing_is_dead_lettered(infra, signing):
    tenant_id, _ = await a_tenant_with_staff_key(infra.kafka_bootstrap, signing.url, "/v1/evidence")
    png = a_signature_png()
    with serving_signature(png) as image_url:
        signed = a_task_signed(tenant_id, image_url, png)
        await publish_accepted(infra.kafka_bootstrap, signed)
        await eventually(
            lambda: signing_events_for(infra.kafka_bootstrap, signed.payload.action_id),
            what="the task signing's evidence",
        )
    stamped = a_stamp_of(signed, "d", "0" * 64, f"{signing.url}/nowhere")
    await publish(infra.kafka_bootstrap, DOCUMENTS_EVENTS, stamped)

    (headers,) = await eventually(lambda: dead_letters_of(infra, stamped), timeout=40, what="the DLQ entry")
    assert "was a task signing" in headers["error"] and headers["group"] == "akkoord.signing"


async def test_anyone_can_fetch_the_seal_certificate_but_never_the_key(signing):
    async with httpx.AsyncClient(base_url=signing.url) as client:
        certificate = await client.get("/v1/seal-certificate")
    assert certificate.text.startswith("-----BEGIN CERTIFICATE-----") and "PRIVATE" not in certificate.text


async def test_a_stamp_held_by_one_replica_while_another_records_the_signing_is_a_conflict_not_a_lost_stamp(infra):
    # given two signing replicas in transactions at once: one holds the stamp (no evidence yet), the other
    # records the signing and asks for a held stamp (none yet)
    client = AsyncMongoClient(infra.mongodb_uri)
    store = EvidenceStore(client[f"signing_{uuid.uuid4().hex[:8]}"])
    # (the collections exist, as in a running service: two transactions both creating one conflict on that)
    await store.ensure_indexes()
    holding, recording = client.start_session(), client.start_session()
    await holding.start_transaction()
    await recording.start_transaction()
    await store.hold_stamp("t1", "a1", {"type": "document.stamped"}, holding)
    # then they write the same document, so the second writer fails with a conflict its transaction retries
    with pytest.raises(OperationFailure) as conflict:
        await store.take_stamp("t1", "a1", recording)
    assert conflict.value.has_error_label("TransientTransactionError")
    await recording.abort_transaction()
    await holding.commit_transaction()
    # and, retried, the recording side finds the stamp the other committed
    async with client.start_session() as retried, await retried.start_transaction():
        assert await store.take_stamp("t1", "a1", retried) == {"type": "document.stamped"}
    await client.close()


async def test_a_stamp_whose_signing_does_not_come_is_dead_lettered_with_why_and_seals_when_replayed(infra, signing):
    # given a stamped document held by the signing service for a signing that has not come
    tenant_id, _ = await a_tenant_with_staff_key(infra.kafka_bootstrap, signing.url, "/v1/evidence")
    png, stamped_pdf = a_signature_png(), a_pdf("Work order 10, stamped")
    client = AsyncMongoClient(infra.mongodb_uri)
    db = client["akkoord_signing"]
    with serving_signature(png) as image_url, serving(stamped_pdf, "application/pdf", "/stamped.pdf") as pdf_url:
        signed = a_document_signed(tenant_id, image_url, png, "doc-10", "v1", "sha256:" + "2" * 64)
        action_id = signed.payload.action_id
        stamped = a_stamp_of(signed, "doc-10", hashlib.sha256(stamped_pdf).hexdigest(), pdf_url)
        await publish(infra.kafka_bootstrap, DOCUMENTS_EVENTS, stamped)
        await eventually(lambda: held_stamp(db["held_stamps"], stamped), timeout=40, what="the stamp held")

        # when its time is up (the service's own watch does this after SIGNING_HOLD_STAMP_SECONDS; here a
        # handler on the service's database, with no time to wait, through the service's outbox)
        outbox = Outbox(client, db)
        watch = bootstrap.build(
            Settings(hold_stamp_seconds=0), store=EvidenceStore(db), outbox=outbox, tracking=Tracking(outbox)
        ).uow
        assert (
            await handlers.give_up_overdue_stamps(watch, tenant_id) == 1
        )  # this test's tenant: other tests' stamps stay
        still_held = await db["held_stamps"].count_documents({"event": {"$exists": True}})
        assert REGISTRY.get_sample_value("akkoord_signing_held_stamps") == still_held
        async with httpx.AsyncClient() as c:  # the service's own watch reports the same gauge
            assert "akkoord_signing_held_stamps" in (await c.get(f"{signing.ops_url}/metrics")).text

        # then it is in the DLQ with the reason, for signing's group, and no longer held
        (headers,) = await eventually(lambda: dead_letters_of(infra, stamped), timeout=40, what="the DLQ entry")
        assert "unknown evidence" in headers["error"] and headers["group"] == "akkoord.signing"
        assert headers["source_topic"] == DOCUMENTS_EVENTS
        assert await handlers.give_up_overdue_stamps(watch, tenant_id) == 0

        # and once the signing is recorded, a replay of signing's dead letters seals the stamped document
        await publish_accepted(infra.kafka_bootstrap, signed)

        async def of_kind(kind):
            return [e for e in await signing_events_for(infra.kafka_bootstrap, action_id) if e["type"] == kind]

        await eventually(lambda: of_kind("evidence.recorded"), timeout=40, what="the signing's evidence")
        assert await of_kind("signature.sealed") == []
        replayed = await replay(
            infra.kafka_bootstrap, DOCUMENTS_EVENTS, "akkoord.signing", event_ids={stamped.event_id}
        )  # this one only: other tests' dead letters stay
        assert replayed["groups"]["akkoord.signing"]["event_ids"] == [stamped.event_id]
        [sealed] = await eventually(lambda: of_kind("signature.sealed"), timeout=60, what="the document sealed")
        assert sealed["payload"]["kind"] == "sealed_document"
    await client.close()


async def test_a_held_stamp_whose_pdf_does_not_match_is_dead_lettered_and_the_signing_keeps_its_evidence(
    infra, signing
):
    # given a stamp held for its signing, whose PDF is not the one its digest names
    tenant_id, key = await a_tenant_with_staff_key(infra.kafka_bootstrap, signing.url, "/v1/evidence")
    png = a_signature_png()
    db = AsyncMongoClient(infra.mongodb_uri)["akkoord_signing"]
    with serving_signature(png) as image_url, serving(a_pdf("Not this one"), "application/pdf", "/x.pdf") as pdf_url:
        signed = a_document_signed(tenant_id, image_url, png, "doc-11", "v1", "sha256:" + "3" * 64)
        action_id = signed.payload.action_id
        stamped = a_stamp_of(signed, "doc-11", "4" * 64, pdf_url)
        await publish(infra.kafka_bootstrap, DOCUMENTS_EVENTS, stamped)
        await eventually(lambda: held_stamp(db["held_stamps"], stamped), timeout=40, what="the stamp held")
        # when the signing comes
        await publish_accepted(infra.kafka_bootstrap, signed)

        # then the stamp is dead-lettered with the reason, and the signing's evidence is recorded all the same
        (headers,) = await eventually(lambda: dead_letters_of(infra, stamped), timeout=40, what="the stamp in the DLQ")
        assert "does not match digest" in headers["error"] and headers["group"] == "akkoord.signing"

    async def evidence_recorded():
        return [
            e for e in await signing_events_for(infra.kafka_bootstrap, action_id) if e["type"] == "evidence.recorded"
        ]

    [recorded] = await eventually(evidence_recorded, what="the signing's evidence.recorded")
    async with httpx.AsyncClient(base_url=signing.url, headers={"Authorization": f"Bearer {key}"}) as client:
        record = (await client.get(f"/v1/evidence/{recorded['payload']['evidence_id']}")).json()
    assert record["document"]["digest_after"] is None and record["seals"] == []
