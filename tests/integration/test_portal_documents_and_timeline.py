"""The portal with its neighbours running: the document to sign comes from documents, the timeline from timeline."""

from __future__ import annotations

import io

import httpx
import pytest
from PIL import Image

from contracts.messages import parse_message
from tests.integration.portal_steps import (
    csrf,
    given_open_action,
    open_actions,
    portal,
    portal_events,
    sign_body,
    signed_in,
)
from tests.integration.staff_keys import a_tenant_with_staff_key
from tests.support import pdfs
from tests.support.accepted import publish_accepted
from tests.support.waiting import eventually

__all__ = ["portal"]  # the module-scoped fixture


def a_pdf(*lines: str, pages: int) -> bytes:
    return pdfs.a_pdf(*lines, pages=pages, numbered=True)


@pytest.fixture(scope="module")
def documents(stack):
    return stack.start("documents")


@pytest.fixture(scope="module")
def timeline(stack):
    return stack.start("timeline")


async def test_a_document_to_sign_is_shown_page_by_page_with_its_text_and_a_download(infra, portal, documents):
    tenant_id, key = await a_tenant_with_staff_key(infra.kafka_bootstrap, documents.url, "/v1/documents")
    pdf = a_pdf("Work order 42", "Roof replaced", pages=2)
    async with httpx.AsyncClient(base_url=documents.url) as staff:
        created = (
            await staff.post(
                "/v1/documents",
                headers={"Authorization": f"Bearer {key}"},
                data={"title": "Work order 42"},
                files={"file": ("wo.pdf", pdf, "application/pdf")},
            )
        ).json()
    version = created["versions"][0]
    given = await given_open_action(
        infra,
        tenant_id=tenant_id,
        kind="sign_document",
        digest=version["digest"],
        document_id=created["id"],
        document_version_id=version["id"],
    )
    other = await given_open_action(infra, tenant_id=tenant_id)

    async with signed_in(portal, tenant_id, given["contact_id"]) as client:
        await eventually(lambda: open_actions(client), what="the open action")
        page = await client.get(f"/actions/{given['action_id']}/sign")
        assert page.status_code == 200
        for n in (1, 2):
            png = f"/actions/{given['action_id']}/document/pages/{n}.png"
            assert f'src="{png}" srcset="{png} 1x, {png}?scale=2 2x" alt="Page {n} of 2"' in page.text
            assert f'<a href="{png}?scale=3">Open page {n} at full size</a>' in page.text
        assert "Work order 42" in page.text and "Roof replaced" in page.text  # the text, for screen readers
        assert f'name="document_digest" value="{version["digest"]}"' in page.text

        preview = await client.get(f"/actions/{given['action_id']}/document/pages/2.png")
        assert preview.status_code == 200 and preview.content.startswith(b"\x89PNG")
        # sharper renderings for high-density screens and zooming, each twice and thrice as wide; no larger
        widths = [
            Image.open(
                io.BytesIO(
                    (
                        await client.get(f"/actions/{given['action_id']}/document/pages/2.png", params={"scale": scale})
                    ).content
                )
            ).width
            for scale in (1, 2, 3)
        ]
        assert [round(width / widths[0], 2) for width in widths] == [1, 2, 3]
        too_big = await client.get(f"/actions/{given['action_id']}/document/pages/2.png", params={"scale": 4})
        assert too_big.status_code == 422
        download = await client.get(f"/actions/{given['action_id']}/document.pdf")
        assert download.status_code == 200 and download.content == pdf
        assert (await client.get(f"/actions/{other['action_id']}/document.pdf")).status_code == 404


async def test_a_document_that_cannot_be_shown_cannot_be_signed_from_the_page(infra, portal, documents):
    given = await given_open_action(infra, kind="sign_document", digest="e" * 64)
    async with signed_in(portal, given["tenant_id"], given["contact_id"]) as client:
        await eventually(lambda: open_actions(client), what="the open action")
        page = await client.get(f"/actions/{given['action_id']}/sign")
    assert "cannot be shown right now" in page.text
    assert f'action="/actions/{given["action_id"]}/sign"' not in page.text


async def test_the_task_page_shows_the_contacts_portal_timeline(infra, portal, timeline):
    given = await given_open_action(infra)
    async with signed_in(portal, given["tenant_id"], given["contact_id"]) as client:
        await eventually(lambda: open_actions(client), what="the open action")
        signed = await client.post(
            f"/api/v1/actions/{given['action_id']}/signature", json=sign_body(), headers=await csrf(client)
        )
        assert signed.status_code == 201
        # tasks (not running here) accepts the signing: its completion carries what timeline shows as proof
        [event] = await eventually(lambda: portal_events(infra, "task.signed", given["action_id"]), what="task.signed")
        await publish_accepted(infra.kafka_bootstrap, parse_message(event))

        async def signing_in_timeline():
            task = (await client.get(f"/api/v1/tasks/{given['task_id']}")).json()
            return task["timeline_available"] and {e["kind"] for e in task["timeline"]} >= {
                "task.action_requested",
                "task.signed",
            }

        await eventually(signing_in_timeline, what="the signing in the portal timeline")
        page = await client.get(f"/tasks/{given['task_id']}")
    assert "You signed" in page.text and "Signature requested" in page.text
    assert "<dd>Jan</dd>" in page.text  # the field the contact filled in, as proof


async def test_anyone_can_check_a_pdfs_seal_on_the_verify_page(stack, portal):
    stack.start("signing")
    async with httpx.AsyncClient(base_url=portal.url, timeout=30, headers={"Accept-Language": "en"}) as client:
        assert (await client.get("/verify")).status_code == 200
        unsealed = await client.post(
            "/verify", files={"file": ("x.pdf", a_pdf("Not sealed", pages=1), "application/pdf")}
        )
        assert unsealed.status_code == 200 and "Not valid" in unsealed.text
        not_a_pdf = await client.post("/verify", files={"file": ("x.pdf", b"hello", "application/pdf")})
        assert not_a_pdf.status_code == 422


async def test_a_second_view_of_the_signing_page_downloads_and_parses_the_document_no_more(
    infra, stack, portal, documents
):
    # given a document to sign, viewed once
    tenant_id, key = await a_tenant_with_staff_key(infra.kafka_bootstrap, documents.url, "/v1/documents")
    async with httpx.AsyncClient(base_url=documents.url) as staff:
        created = (
            await staff.post(
                "/v1/documents",
                headers={"Authorization": f"Bearer {key}"},
                data={"title": "Work order 43"},
                files={"file": ("wo.pdf", a_pdf("Work order 43", "Gutter fixed", pages=3), "application/pdf")},
            )
        ).json()
    version = created["versions"][0]
    given = await given_open_action(
        infra,
        tenant_id=tenant_id,
        kind="sign_document",
        digest=version["digest"],
        document_id=created["id"],
        document_version_id=version["id"],
    )
    try:
        async with signed_in(portal, tenant_id, given["contact_id"]) as client:
            await eventually(lambda: open_actions(client), what="the open action")
            first = await client.get(f"/actions/{given['action_id']}/sign")
            assert first.status_code == 200 and "Gutter fixed" in first.text
            # when the documents service is gone (so no download could succeed) and the page is viewed again
            stack.stop("documents")
            second = await client.get(f"/actions/{given['action_id']}/sign")
        # then the page is the same: its pages, their text and the form come from what the first view kept
        assert second.status_code == 200
        assert 'alt="Page 3 of 3"' in second.text and "Gutter fixed" in second.text
        assert f'action="/actions/{given["action_id"]}/sign"' in second.text
    finally:
        stack.start("documents")
    # and another tenant's contact with an action on the same document ids gets nothing from it
    stranger = await given_open_action(
        infra,
        kind="sign_document",
        digest=version["digest"],
        document_id=created["id"],
        document_version_id=version["id"],
    )
    async with signed_in(portal, stranger["tenant_id"], stranger["contact_id"]) as client:
        await eventually(lambda: open_actions(client), what="the stranger's open action")
        page = await client.get(f"/actions/{stranger['action_id']}/sign")
    assert "Gutter fixed" not in page.text and "cannot be shown right now" in page.text


async def test_the_verify_page_says_what_is_wrong_in_the_readers_language(stack, portal):
    stack.start("signing")
    async with httpx.AsyncClient(base_url=portal.url, timeout=30, headers={"Accept-Language": "nl-NL"}) as client:
        page = await client.get("/verify")
        assert '<html lang="nl">' in page.text and 'href="/verify?lang=en"' in page.text  # a switch to English
        unsealed = await client.post(
            "/verify", files={"file": ("x.pdf", a_pdf("Not sealed", pages=1), "application/pdf")}
        )
    assert "Het PDF-bestand draagt geen handtekening of zegel." in unsealed.text
    assert "carries no signature" not in unsealed.text
