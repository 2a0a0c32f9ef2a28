"""Documents stamps a document.signed onto the PDF it names and announces document.stamped."""

from __future__ import annotations

from datetime import UTC, datetime

import httpx
import pypdfium2 as pdfium
import pytest

from contracts.topics import DOCUMENTS_EVENTS, TASKS_EVENTS
from services.runtime.config import DEV_SECRET
from tests.integration.staff_keys import a_tenant_with_staff_key
from tests.support.accepted import publish_accepted
from tests.support.bus import read_all, read_events
from tests.support.pdfs import a_pdf
from tests.support.signed_events import a_document_signed, a_signature_png, serving_signature
from tests.support.waiting import eventually


@pytest.fixture(scope="module")
def documents(stack):
    return stack.start("documents")


async def upload(client: httpx.AsyncClient, key: str, pdf: bytes) -> tuple[str, dict]:
    r = await client.post(
        "/v1/documents",
        headers={"Authorization": f"Bearer {key}"},
        data={"title": "Work order"},
        files={"file": ("wo.pdf", pdf, "application/pdf")},
    )
    assert r.status_code == 201, r.text
    return r.json()["id"], r.json()["versions"][0]


async def stamped_event(bootstrap: str, signed_event_id: str) -> dict | None:
    for body, _ in await read_all(bootstrap, DOCUMENTS_EVENTS):
        if body["type"] == "document.stamped" and body["payload"]["signed_event_id"] == signed_event_id:
            return body
    return None


async def dead_lettered(bootstrap: str, signed_event_id: str) -> list[dict]:
    """Dead letters of documents for this signing: tasks' acceptance of it, which carries it."""
    return [
        h
        for body, h in await read_all(bootstrap, f"{TASKS_EVENTS}.dlq")
        if (body.get("payload") or {}).get("signed_event_id") == signed_event_id
        and h.get("group") == "akkoord.documents"
    ]


async def test_a_signed_document_is_stamped_at_its_tags_once_and_announced(infra, documents):
    tenant_id, key = await a_tenant_with_staff_key(infra.kafka_bootstrap, documents.url, "/v1/documents")
    png = a_signature_png()
    async with httpx.AsyncClient(base_url=documents.url) as client:
        document_id, version = await upload(
            client, key, a_pdf("Work order 7", "Name: {{signer_name}}", "Signature: {{signature}}")
        )
        with serving_signature(png) as image_url:
            # given the customer signed that version, and the event arrives twice, plus once more as a
            # copy with a new event id; a poison event on the same partition marks the end of them
            signed = a_document_signed(tenant_id, image_url, png, document_id, version["id"], version["digest"])
            copy = signed.model_copy(update={"event_id": f"copy-{signed.event_id}"})
            marker = signed.model_copy(
                update={
                    "event_id": f"marker-{signed.event_id}",
                    "payload": signed.payload.model_copy(update={"document_id": "none", "action_id": "none"}),
                }
            )
            await publish_accepted(infra.kafka_bootstrap, signed, signed, copy, marker)
            event = await eventually(
                lambda: stamped_event(infra.kafka_bootstrap, signed.event_id), timeout=40, what="document.stamped"
            )
            await eventually(lambda: dead_lettered(infra.kafka_bootstrap, marker.event_id), what="the marker")
            announced = [
                b
                for b, _ in await read_events(infra.kafka_bootstrap, DOCUMENTS_EVENTS)
                if b["type"] == "document.stamped" and b["payload"]["action_id"] == signed.payload.action_id
            ]
            assert len(announced) == 1

        # then the stamped version is a new version of the document, exactly once
        p = event["payload"]
        assert p["source_version_id"] == version["id"] and p["action_id"] == signed.payload.action_id
        versions = (
            await client.get(f"/v1/documents/{document_id}", headers={"Authorization": f"Bearer {key}"})
        ).json()["versions"]
        assert [(v["version"], v["source"]) for v in versions] == [(1, "upload"), (2, "stamped")]

        # and its PDF (fetched as another service would) shows the signer's name and the signature image
        r = await client.get(p["pdf_url"], headers={"X-Internal-Token": DEV_SECRET})
        assert r.status_code == 200
        pdf = pdfium.PdfDocument(r.content)
        page = pdf[0]
        assert "Jan de Vries" in page.get_textpage().get_text_bounded()
        assert any(obj.type == pdfium.raw.FPDF_PAGEOBJ_IMAGE for obj in page.get_objects())
        preview = await client.get(p["preview_url"], headers={"X-Internal-Token": DEV_SECRET})
        assert preview.status_code == 200 and preview.content.startswith(b"\x89PNG")

        # when staff later upload a new version, the signed approval is withdrawn
        r = await client.post(
            f"/v1/documents/{document_id}/versions",
            headers={"Authorization": f"Bearer {key}"},
            files={"file": ("wo-v3.pdf", a_pdf("Work order 7, changed"), "application/pdf")},
        )
        assert r.status_code == 201 and r.json()["version"] == 3

    async def withdrawn():
        return [
            b
            for b, _ in await read_events(infra.kafka_bootstrap, DOCUMENTS_EVENTS)
            if b["type"] == "approval.withdrawn" and b["payload"]["document_id"] == document_id
        ]

    (withdrawal,) = await eventually(withdrawn, what="approval.withdrawn")
    assert withdrawal["payload"]["action_id"] == signed.payload.action_id
    assert withdrawal["task_id"] == signed.task_id and "Version 3" in withdrawal["payload"]["reason"]


async def test_a_signing_of_an_unknown_document_goes_to_the_dead_letter_queue(infra, documents):
    tenant_id, _ = await a_tenant_with_staff_key(infra.kafka_bootstrap, documents.url, "/v1/documents")
    png = a_signature_png()
    signed = a_document_signed(tenant_id, "http://127.0.0.1:9/none", png, "no-such-document", "no-version", "0" * 64)
    await publish_accepted(infra.kafka_bootstrap, signed)

    (headers,) = await eventually(
        lambda: dead_lettered(infra.kafka_bootstrap, signed.event_id), timeout=30, what="the DLQ entry"
    )
    assert "unknown document" in headers["error"]


@pytest.mark.parametrize(
    "time_zone, moved_to, language, expected",
    [
        (None, None, "nl", "6 december 2026, 01:50"),  # a tenant without a zone of its own: Europe/Amsterdam
        ("Asia/Tokyo", None, "en", "6 December 2026, 09:50"),
        ("Europe/Amsterdam", "America/New_York", "en", "5 December 2026, 19:50"),  # an admin changed it since
    ],
)
async def test_the_stamped_date_is_in_the_tenants_time_zone_and_the_signers_language(
    infra, documents, time_zone, moved_to, language, expected
):
    tenant_id, key = await a_tenant_with_staff_key(
        infra.kafka_bootstrap, documents.url, "/v1/documents", time_zone=time_zone, moved_to=moved_to
    )
    png = a_signature_png()
    async with httpx.AsyncClient(base_url=documents.url) as client:
        document_id, version = await upload(
            client, key, a_pdf("Work order 8", "Date: {{signed_at}}", "Signature: {{signature}}")
        )
        with serving_signature(png) as image_url:
            # given a customer of that tenant signed at 00:50 UTC on 6 December 2026, in their language
            signed = a_document_signed(tenant_id, image_url, png, document_id, version["id"], version["digest"])
            at = datetime(2026, 12, 6, 0, 50, 12, tzinfo=UTC)
            signed = signed.model_copy(
                update={
                    "payload": signed.payload.model_copy(
                        update={
                            "language": language,
                            "evidence": signed.payload.evidence.model_copy(update={"signed_at": at}),
                        }
                    )
                }
            )
            await publish_accepted(infra.kafka_bootstrap, signed)
            event = await eventually(
                lambda: stamped_event(infra.kafka_bootstrap, signed.event_id), timeout=40, what="document.stamped"
            )
        # then the stamped PDF says when as that customer reads it
        r = await client.get(event["payload"]["pdf_url"], headers={"X-Internal-Token": DEV_SECRET})
        text = pdfium.PdfDocument(r.content)[0].get_textpage().get_text_bounded()
        assert expected in text, text  # (drawn over the page: pdfium reads it after the page's own text)
        assert "UTC" not in text
