"""Documents against the real broker and database: staff upload PDFs, read them back, and get previews."""

from __future__ import annotations

import io

import httpx
import pytest
from reportlab.lib.pagesizes import A4
from reportlab.pdfgen import canvas

from contracts.topics import DOCUMENTS_EVENTS
from services.runtime.config import DEV_SECRET
from tests.integration.staff_keys import a_tenant_with_staff_key
from tests.support.bus import read_events
from tests.support.pdfs import a_pdf
from tests.support.waiting import eventually


@pytest.fixture(scope="module")
def documents(stack):
    return stack.start("documents")


async def a_staff_key(infra, url: str) -> tuple[str, str]:
    return await a_tenant_with_staff_key(infra.kafka_bootstrap, url, "/v1/documents")


async def test_staff_upload_a_pdf_and_read_it_back_with_its_tags_and_previews(infra, documents):
    tenant_id, key = await a_staff_key(infra, documents.url)
    auth = {"Authorization": f"Bearer {key}"}
    pdf = a_pdf("Work order 42", "Signed by {{signer_name}} on {{signed_at}}", "{{signature}}", pages=2)

    async with httpx.AsyncClient(base_url=documents.url) as client:
        # when staff upload a PDF
        r = await client.post(
            "/v1/documents",
            headers=auth,
            data={"title": "Work order 42"},
            files={"file": ("wo.pdf", pdf, "application/pdf")},
        )
        assert r.status_code == 201, r.text
        created = r.json()
        version = created["versions"][0]
        assert version["pages"] == 2 and version["version"] == 1
        assert {p["kind"] for p in version["placeholders"]} == {"signer_name", "signed_at", "signature"}

        # then they can list it, read it and download the exact bytes
        listed = (await client.get("/v1/documents", headers=auth)).json()["documents"]
        assert [d["id"] for d in listed] == [created["id"]]
        r = await client.get(f"/v1/documents/{created['id']}/versions/{version['id']}/pdf", headers=auth)
        assert r.status_code == 200 and r.content == pdf

        # and another service can fetch a page preview with the internal token, scoped by tenant
        internal = {"X-Internal-Token": DEV_SECRET}
        path = f"/internal/v1/documents/{created['id']}/versions/{version['id']}/pages/1.png"
        r = await client.get(path, params={"tenant_id": tenant_id}, headers=internal)
        assert r.status_code == 200 and r.content.startswith(b"\x89PNG")
        assert (await client.get(path, params={"tenant_id": "another"}, headers=internal)).status_code == 404
        assert (await client.get(path, params={"tenant_id": tenant_id})).status_code == 401
        r = await client.get(
            f"/internal/v1/documents/{created['id']}", params={"tenant_id": tenant_id}, headers=internal
        )
        assert r.json()["versions"][0]["pages"] == 2

        # and a new version gets number 2
        r = await client.post(
            f"/v1/documents/{created['id']}/versions",
            headers=auth,
            files={"file": ("wo2.pdf", a_pdf("Work order 42, revised"), "application/pdf")},
        )
        assert r.status_code == 201 and r.json()["version"] == 2

    async def announced() -> list:
        records = await read_events(infra.kafka_bootstrap, DOCUMENTS_EVENTS)
        return [body for body, _ in records if body.get("payload", {}).get("document_id") == created["id"]]

    events = await eventually(lambda: _two(announced), what="document.uploaded and document.version_added")
    assert [e["type"] for e in events] == ["document.uploaded", "document.version_added"]
    assert events[0]["payload"]["digest"] == version["digest"]


async def _two(probe):
    found = await probe()
    return found if len(found) >= 2 else None


async def test_a_file_that_is_not_a_pdf_is_refused_with_a_clear_message(infra, documents):
    _, key = await a_staff_key(infra, documents.url)
    async with httpx.AsyncClient(base_url=documents.url) as client:
        r = await client.post(
            "/v1/documents",
            headers={"Authorization": f"Bearer {key}"},
            data={"title": "Notes"},
            files={"file": ("notes.pdf", b"just some text, not a PDF", "application/pdf")},
        )
    assert r.status_code == 422
    assert "not a PDF" in r.json()["detail"]


async def test_a_truncated_pdf_is_refused(infra, documents):
    _, key = await a_staff_key(infra, documents.url)
    truncated = a_pdf("half of it")[:400]
    async with httpx.AsyncClient(base_url=documents.url) as client:
        r = await client.post(
            "/v1/documents",
            headers={"Authorization": f"Bearer {key}"},
            data={"title": "Half"},
            files={"file": ("half.pdf", truncated, "application/pdf")},
        )
    assert r.status_code == 422, r.text


async def test_uploading_without_a_staff_key_is_unauthorized(documents):
    async with httpx.AsyncClient(base_url=documents.url) as client:
        r = await client.post("/v1/documents", data={"title": "x"}, files={"file": ("a.pdf", a_pdf("x"))})
    assert r.status_code == 401


async def test_a_file_over_the_size_limit_is_refused_with_413(infra, documents):
    _, key = await a_staff_key(infra, documents.url)
    too_big = b"%PDF-1.7\n" + b"0" * (25 * 1024 * 1024 + 1)
    async with httpx.AsyncClient(base_url=documents.url, timeout=60) as client:
        r = await client.post(
            "/v1/documents",
            headers={"Authorization": f"Bearer {key}"},
            data={"title": "Big"},
            files={"file": ("big.pdf", too_big, "application/pdf")},
        )
    assert r.status_code == 413 and "25 MB" in r.json()["detail"]


async def test_another_tenants_document_is_not_found(infra, documents):
    _, mine = await a_staff_key(infra, documents.url)
    _, theirs = await a_staff_key(infra, documents.url)
    async with httpx.AsyncClient(base_url=documents.url) as client:
        r = await client.post(
            "/v1/documents",
            headers={"Authorization": f"Bearer {mine}"},
            data={"title": "Mine"},
            files={"file": ("m.pdf", a_pdf("mine"), "application/pdf")},
        )
        document_id = r.json()["id"]
        r = await client.get(f"/v1/documents/{document_id}", headers={"Authorization": f"Bearer {theirs}"})
    assert r.status_code == 404


def tiny_pdf_with_a_huge_page() -> bytes:
    """A 2-page PDF of a few KB whose second page is 200 inches square (600 MB of bitmap at 72 dpi)."""
    buf = io.BytesIO()
    c = canvas.Canvas(buf, pagesize=A4)
    c.drawString(72, 700, "Work order")
    c.showPage()
    c.setPageSize((14400, 14400))
    c.drawString(72, 700, "{{signature}}")
    c.showPage()
    c.save()
    huge = buf.getvalue()
    assert len(huge) < 5_000
    return huge


async def test_a_tiny_pdf_with_a_14400_point_page_is_refused_naming_the_limit_and_the_page(infra, documents):
    # given a tiny PDF with a huge page
    huge = tiny_pdf_with_a_huge_page()
    _, key = await a_staff_key(infra, documents.url)
    async with httpx.AsyncClient(base_url=documents.url) as client:
        # when staff upload it
        r = await client.post(
            "/v1/documents",
            headers={"Authorization": f"Bearer {key}"},
            data={"title": "Huge"},
            files={"file": ("huge.pdf", huge, "application/pdf")},
        )
        # then it is refused with the page and the limit named, and the service is still there
        assert r.status_code == 422, r.text
        assert "Page 2 is 14400 x 14400 points" in r.json()["detail"]
        assert "at most 100 inches (7200 points) a side" in r.json()["detail"]
        assert (await client.get("/healthz")).status_code == 200


async def test_a_new_version_with_a_14400_point_page_is_refused_like_a_first_upload(infra, documents):
    # given a document staff uploaded
    _, key = await a_staff_key(infra, documents.url)
    auth = {"Authorization": f"Bearer {key}"}
    async with httpx.AsyncClient(base_url=documents.url) as client:
        created = await client.post(
            "/v1/documents",
            headers=auth,
            data={"title": "Work order"},
            files={"file": ("w.pdf", a_pdf("w"), "application/pdf")},
        )
        # when they add a tiny PDF with a huge page as its next version
        r = await client.post(
            f"/v1/documents/{created.json()['id']}/versions",
            headers=auth,
            files={"file": ("huge.pdf", tiny_pdf_with_a_huge_page(), "application/pdf")},
        )
        # then it is refused naming the page and the limit, and the document keeps its one version
        assert r.status_code == 422, r.text
        assert "Page 2 is 14400 x 14400 points" in r.json()["detail"]
        document = await client.get(f"/v1/documents/{created.json()['id']}", headers=auth)
        assert [v["version"] for v in document.json()["versions"]] == [1]
