"""A signed document travels documents → signing: stamped, given its evidence page, sealed, verifiable."""

from __future__ import annotations

import httpx

from contracts.topics import SIGNING_EVENTS
from tests.integration.staff_keys import a_tenant_with_staff_key
from tests.support.accepted import publish_accepted
from tests.support.bus import read_events
from tests.support.pdfs import a_pdf
from tests.support.signed_events import a_document_signed, a_signature_png, serving_signature
from tests.support.waiting import eventually


async def test_a_stamped_document_is_sealed_with_its_evidence_and_verifies(infra, stack):
    documents, signing = stack.start("documents"), stack.start("signing")
    tenant_id, key = await a_tenant_with_staff_key(infra.kafka_bootstrap, documents.url, "/v1/documents")

    async def signing_knows_the_key() -> bool:
        async with httpx.AsyncClient() as c:
            return (await c.get(f"{signing.url}/v1/evidence", headers={"Authorization": f"Bearer {key}"})).is_success

    await eventually(signing_knows_the_key, what="the same staff key projected into signing")
    png = a_signature_png()
    async with httpx.AsyncClient() as client:
        r = await client.post(
            f"{documents.url}/v1/documents",
            headers={"Authorization": f"Bearer {key}"},
            data={"title": "Quote 12"},
            files={"file": ("q.pdf", a_pdf("Quote 12, no tags"))},
        )
        document_id, version = r.json()["id"], r.json()["versions"][0]
        with serving_signature(png) as image_url:
            signed = a_document_signed(tenant_id, image_url, png, document_id, version["id"], version["digest"])
            await publish_accepted(infra.kafka_bootstrap, signed)

            async def sealed():
                return [
                    b
                    for b, _ in await read_events(infra.kafka_bootstrap, SIGNING_EVENTS)
                    if b["type"] == "signature.sealed" and b["payload"]["action_id"] == signed.payload.action_id
                ]

            (event,) = await eventually(sealed, timeout=60, what="signature.sealed for the document")

        assert event["payload"]["kind"] == "sealed_document"
        evidence = await client.get(
            f"{signing.url}/v1/evidence/{event['payload']['evidence_id']}", headers={"Authorization": f"Bearer {key}"}
        )
        assert evidence.status_code == 200, evidence.text
        record = evidence.json()
        assert record["document"]["digest_before"] == version["digest"]
        assert record["document"]["digest_after"]
        pdf = (
            await client.get(f"{signing.url}{record['seals'][0]['url']}", headers={"Authorization": f"Bearer {key}"})
        ).content
        report = (await client.post(f"{signing.url}/v1/verify", files={"file": ("d.pdf", pdf)})).json()
        assert report["verified"] and report["matches_stored"] and report["kind"] == "sealed_document"
