"""The portal in a real browser (Debian's Chromium via Playwright) on a phone-sized screen, all services running."""

from __future__ import annotations

import httpx

from tests.support.magic_link import press_sign_in
from tests.support.pdfs import a_pdf
from tests.support.portal_browser import ARTIFACTS, PHONE, a_signature_request, sign_form_ready
from tests.support.waiting import eventually


async def test_a_customer_signs_with_a_typed_name_using_only_the_keyboard_on_a_phone(running, tenant, browser):
    given = await a_signature_request(running, tenant, language="nl", title="Onderhoud ovens")
    page = await browser.new_page(viewport=PHONE)

    # Given the customer opened the magic link, confirmed it is them, and the request reached the portal
    await page.goto(given["link"])
    assert "Onderhoud" not in await page.content(), "the link only shows who signs in"
    await press_sign_in(page)

    async def open_action_shown():
        await page.goto(given["portal"] + "/")
        return await page.locator(f'form[action="/actions/{given["action"]["id"]}/sign"] button').count() == 1

    await eventually(open_action_shown, what="the open action on My tasks", interval=0.5)
    assert await page.locator("h1").inner_text() == "Mijn taken"
    await page.screenshot(path=str(ARTIFACTS / "my-tasks-nl.png"), full_page=True)

    # When they sign with the keyboard alone: fields, the typed way of signing (drawing is the default, and
    # needs a pointer), typed name, consent, Enter
    await page.click(f'form[action="/actions/{given["action"]["id"]}/sign"] button')
    await sign_form_ready(page)
    await page.focus("#f-full_name")
    await page.keyboard.type("Jan de Vries")
    await page.keyboard.press("Tab")
    assert await page.evaluate("document.activeElement.id") == "kind-drawn"
    await page.keyboard.press("ArrowDown")
    assert await page.is_checked("#kind-typed")
    await page.keyboard.press("Tab")
    assert await page.evaluate("document.activeElement.id") == "typed_name"
    await page.keyboard.type("Jan de Vries")
    await page.focus("#consent")
    await page.keyboard.press("Space")
    await page.screenshot(path=str(ARTIFACTS / "sign-nl.png"), full_page=True)
    await page.keyboard.press("Enter")

    # Then the task page confirms it and the portal timeline shows the signing
    await page.wait_for_url(f"**/tasks/{given['task']['id']}?done=signed")
    assert "Uw handtekening is vastgelegd" in await page.inner_text("main")

    async def signing_in_timeline():
        await page.reload()
        return "U heeft ondertekend" in await page.inner_text("main")

    await eventually(signing_in_timeline, what="the signing in the portal timeline", interval=0.5)
    await page.screenshot(path=str(ARTIFACTS / "signed-nl.png"), full_page=True)


async def test_a_customer_declines_in_english_and_sees_it_in_the_timeline(running, tenant, browser):
    given = await a_signature_request(running, tenant, language="en", title="Oven maintenance")
    page = await browser.new_page(viewport=PHONE)
    await page.goto(given["link"])
    await press_sign_in(page)
    decline = f'form[action="/actions/{given["action"]["id"]}/decline"] button'

    async def open_action_shown():
        await page.goto(given["portal"] + "/")
        return await page.locator(decline).count() == 1

    await eventually(open_action_shown, what="the open action on My tasks", interval=0.5)

    await page.click(decline)
    await page.click("main button[type=submit]")  # no reason yet
    assert "Please tell us why you decline." in await page.inner_text("#reason-error")
    await page.fill("#reason", "The oven is still cold")
    await page.click("main button[type=submit]")
    await page.wait_for_url(f"**/tasks/{given['task']['id']}?done=declined")

    async def declined_in_timeline():
        await page.reload()
        return "The oven is still cold" in await page.inner_text("main")

    await eventually(declined_in_timeline, what="the decline in the portal timeline", interval=0.5)
    await page.screenshot(path=str(ARTIFACTS / "declined-en.png"), full_page=True)


async def test_a_customer_signs_a_document_they_see_page_by_page_and_then_sees_the_signed_page(
    running, tenant, browser
):
    urls = {name: proc.url for name, proc in running.running.items()}
    async with httpx.AsyncClient(headers={"Authorization": f"Bearer {tenant['staff_key']}"}, timeout=20) as staff:
        # Given staff uploaded a work order with a signature placeholder and asked a contact to sign it
        document = (
            await staff.post(
                f"{urls['documents']}/v1/documents",
                data={"title": "Work order 7"},
                files={"file": ("wo.pdf", a_pdf("Work order 7", "Signature: {{signature}}"), "application/pdf")},
            )
        ).json()
        contact = (
            await staff.post(
                f"{urls['tasks']}/v1/contacts",
                json={"name": "Jan de Vries", "email": "jan@example.nl", "language": "en"},
            )
        ).json()
        task = (
            await staff.post(
                f"{urls['tasks']}/v1/tasks",
                json={"title": "Boiler service", "phase": "Waiting for approval", "contact_id": contact["id"]},
            )
        ).json()

        async def requested():  # tasks learns of the document from documents' events
            r = await staff.post(
                f"{urls['tasks']}/v1/tasks/{task['id']}/actions",
                json={
                    "contact_id": contact["id"],
                    "kind": "sign_document",
                    "document_id": document["id"],
                    "fields": [],
                },
            )
            return r.json() if r.status_code == 201 else None

        action = await eventually(requested, what="tasks accepting the document", interval=0.3)
        link = (await staff.post(f"{urls['tasks']}/v1/contacts/{contact['id']}/portal-links")).json()["url"]

    page = await browser.new_page(viewport=PHONE)
    await page.goto(link)
    await press_sign_in(page)
    sign = f'form[action="/actions/{action["id"]}/sign"] button'

    async def open_action_shown():
        await page.goto(urls["portal"] + "/")
        return await page.locator(sign).count() == 1

    await eventually(open_action_shown, what="the open action on My tasks", interval=0.5)
    assert await page.locator(sign).inner_text() == "Sign document"

    # When they open it, they see the page and its text, then sign with a typed name
    await page.click(sign)
    preview = page.locator('img[alt="Page 1 of 1"]')
    await preview.scroll_into_view_if_needed()
    await eventually(
        lambda: preview.evaluate("img => img.complete && img.naturalWidth > 0"),
        what="the page preview loaded",
        interval=0.3,
    )
    await sign_form_ready(page)
    await page.check("#kind-typed")
    await page.fill("#typed_name", "Jan de Vries")
    await page.check("#consent")
    await page.screenshot(path=str(ARTIFACTS / "sign-document-en.png"), full_page=True)
    await page.click("main button[type=submit]")
    await page.wait_for_url(f"**/tasks/{task['id']}?done=signed")

    # Then the timeline shows a rendering of the signed page, served through the portal
    async def signed_page_shown():
        await page.reload()
        image = page.locator(f'img[src="/actions/{action["id"]}/signed-page.png"]')
        if await image.count() == 0:
            return False
        await image.scroll_into_view_if_needed()
        return await image.evaluate("img => img.complete && img.naturalWidth > 0")

    await eventually(signed_page_shown, what="the signed page in the portal timeline", timeout=60, interval=1)
    await page.screenshot(path=str(ARTIFACTS / "signed-document-en.png"), full_page=True)
    async with httpx.AsyncClient(
        base_url=urls["portal"], cookies=dict((c["name"], c["value"]) for c in await page.context.cookies())
    ) as customer:
        assert (await customer.get(f"/actions/{action['id']}/signed-document.pdf")).content.startswith(b"%PDF")
