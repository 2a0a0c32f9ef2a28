"""The staff console in a real browser (Debian's Chromium via Playwright), all services running: an admin
requests a document signature, the customer signs in the portal, the console shows the proof; every page is
scanned with axe-core at 1280×800 and 390×844, in Dutch and English. Screenshots: test-artifacts/console/."""

from __future__ import annotations

import re
import tempfile
from pathlib import Path

import httpx
import pytest

from tests.e2e.conftest import new_tenant
from tests.support.magic_link import press_sign_in
from tests.support.pdfs import a_pdf
from tests.support.portal_browser import AXE, sign_form_ready
from tests.support.waiting import eventually

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts" / "console"
SIZES = {"desktop": {"width": 1280, "height": 800}, "phone": {"width": 390, "height": 844}}
PASSWORD = "een lange wachtzin voor de test"
TIME_ZONE_SUBMIT = "form[action='/console/settings/time-zone'] button[type=submit]"
# What a crafted form could send: an option the list does not have.
BOGUS_ZONE = "() => document.querySelector('#tenant-time-zone').add(new Option('Mars/Olympus_Mons', 'Mars/Olympus_Mons', true, true))"


class Pages:
    """Screenshots and an axe scan of the page as it is, at both sizes; serious findings are collected."""

    def __init__(self, page):
        self.page, self.findings, self.seen = page, [], []

    async def look(self, name: str) -> None:
        self.seen.append(name)
        for size_name, size in SIZES.items():
            await self.page.set_viewport_size(size)
            await self.page.screenshot(path=str(ARTIFACTS / f"{name}-{size_name}.png"), full_page=True)
            if not await self.page.evaluate("() => typeof window.axe === 'object'"):
                await self.page.evaluate(AXE.read_text())
            result = await self.page.evaluate("() => axe.run(document, {resultTypes: ['violations']})")
            self.findings += [
                f"{name} {size_name}: {v['id']} ({v['impact']}): {[n['html'][:120] for n in v['nodes'][:3]]}"
                for v in result["violations"]
                if v["impact"] in ("serious", "critical")
            ]
        await self.page.set_viewport_size(SIZES["desktop"])


async def an_admin(running, tenant: dict, language: str) -> dict:
    """A staff admin invited with the tenant's admin key (the invitation link is returned once)."""
    async with httpx.AsyncClient(
        base_url=running.running["tasks"].url, timeout=20, headers={"Authorization": f"Bearer {tenant['admin_key']}"}
    ) as admin:
        invited = await admin.post(
            "/v1/staff-users",
            json={
                "email": f"beheer-{tenant['tenant_id']}@example.nl",
                "name": "Anna Beheer",
                "role": "admin",
                "language": language,
            },
        )
    assert invited.status_code == 201, invited.text
    return invited.json()


# One story through every page (about 4 minutes on a quiet 2-core box: 36 scans and screenshots, a signing
# sealed and stamped): more than the default 5 minutes when the machine is busy.
@pytest.mark.timeout(900)
async def test_staff_request_a_document_signature_and_read_the_proof_in_the_console(running, browser):
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    tenant = new_tenant(running, "Installatiebedrijf Console")
    tasks_url, portal_url = running.running["tasks"].url, running.running["portal"].url
    invitation = await an_admin(running, tenant, "nl")
    page = await browser.new_page(viewport=SIZES["desktop"], locale="nl-NL")
    pages = Pages(page)

    # Given an invited admin who chooses a password and signs in
    await page.goto(invitation["invitation_url"])
    await pages.look("invitation-nl")
    await page.fill("#password", PASSWORD)
    await page.fill("#repeat", PASSWORD)
    await page.click("main button[type=submit]")
    await page.wait_for_url("**/console/login?done=invitation")
    await pages.look("login-nl")
    await page.fill("#email", invitation["email"])
    await page.fill("#password", PASSWORD)
    await page.click("main button[type=submit]")
    await page.wait_for_url("**/console/tasks")
    assert await page.locator("h1").inner_text() == "Taken"

    # And the tenant works in Lisbon: on the settings page a zone that is not one (a crafted form) is refused,
    # naming it, and a zone from the list is kept
    await page.goto(f"{tasks_url}/console/settings")
    await page.evaluate(BOGUS_ZONE)
    await page.click(TIME_ZONE_SUBMIT)
    assert "'Mars/Olympus_Mons' is geen bekende IANA-tijdzone" in await page.inner_text("#time-zone-error")
    await pages.look("settings-time-zone-error-nl")
    await page.select_option("#tenant-time-zone", "Europe/Lisbon")
    await page.click(TIME_ZONE_SUBMIT)
    await page.wait_for_url(re.compile(r".*/console/settings\?done=time_zone.*"))
    assert await page.input_value("#tenant-time-zone") == "Europe/Lisbon"

    # And the product's example rule from the automation page's starting point, made to react to a signed
    # document (the example's trigger is a signed task)
    await page.goto(f"{tasks_url}/console/rules/new?example=approve")
    assert await page.input_value("#c0_value") == "Waiting for approval"
    assert await page.input_value("#a0_value") == "Approved"
    await pages.look("rule-new-nl")
    await page.select_option("#trigger", "document.signed")
    await page.fill("#name", "Approve on document signing")
    await page.click("main form button[type=submit]")
    await page.wait_for_url(re.compile(r".*/console/rules/[^/?]+\?done=created"))
    rule_path = page.url.split(tasks_url)[1].split("?")[0]

    # And a work order with a placeholder, uploaded on the documents page
    await page.goto(f"{tasks_url}/console/documents")
    # (its file chooser speaks the page's language, not the browser's "Choose File")
    assert await page.inner_text(".file-control") == "Kies een bestand\nGeen bestand gekozen"
    await page.fill("#title", "Werkbon 12")
    with tempfile.NamedTemporaryFile(suffix=".pdf") as pdf:
        pdf.write(a_pdf("Werkbon 12", "Handtekening: {{signature}}"))
        pdf.flush()
        await page.set_input_files("#file", pdf.name)
        await page.click("main form button[type=submit]")
        await page.wait_for_url(re.compile(r".*/console/documents/[^/?]+\?done=uploaded"))
    assert "{{signature}}" in await page.inner_text("main")
    document_path = page.url.split("?")[0]
    await pages.look("document-nl")

    # When they create a contact and a task for them
    await page.goto(f"{tasks_url}/console/contacts")
    await page.fill("#name", "Jan de Vries")
    await page.fill("#email", "jan@example.nl")
    await page.click("main form[method=post][action='/console/contacts'] button[type=submit]")
    await page.wait_for_url(re.compile(r".*/console/contacts/[^/?]+\?done=created"))
    contact_path = page.url.split(tasks_url)[1].split("?")[0]
    await pages.look("contact-nl")
    await page.click("text=Nieuwe taak")
    await page.fill("#title", "Onderhoud ketel")
    await page.select_option("#phase", "Waiting for approval")
    await page.click("main button[type=submit]")
    await page.wait_for_url(re.compile(r".*/console/tasks/[^/?]+\?done=created"))
    task_path = page.url.split("?")[0]

    # And choose Sign document with the keyboard alone: the extra select shows the tenant's documents
    await page.focus("#kind")
    assert await page.locator("#document_id").is_hidden()
    await page.keyboard.press("ArrowDown")
    await page.keyboard.press("ArrowDown")
    assert await page.input_value("#kind") == "sign_document"
    await page.keyboard.press("Tab")
    assert await page.evaluate("document.activeElement.id") == "document_id"
    await page.keyboard.press("ArrowDown")
    assert "Werkbon 12" in await page.locator("#document_id option:checked").inner_text()
    preview = page.locator("details.doc-preview:visible")
    assert await preview.count() == 1 and "{{signature}}" in await preview.inner_text()
    await pages.look("task-request-nl")
    for _ in range(12):  # on through the preview, message and deadline to the form's button
        await page.keyboard.press("Tab")
        focused = "document.activeElement.type === 'submit' && !!document.activeElement.closest('#action-form')"
        if await page.evaluate(focused):
            break
    await page.keyboard.press("Enter")
    await page.wait_for_url("**?done=requested")
    assert "Document ondertekenen" in await page.inner_text("main")

    # And show the portal link to hand to the customer
    await page.click("button[value=copy]")
    link = await page.input_value("#portal-url")
    assert link.startswith(portal_url)

    # Then the customer signs the document in the portal
    customer = await browser.new_page(viewport=SIZES["phone"])
    await customer.goto(link)
    await press_sign_in(customer)
    sign = customer.locator('form[action^="/actions/"][action$="/sign"] button')

    async def open_action_shown():
        await customer.goto(portal_url + "/")
        return await sign.count() == 1

    await eventually(open_action_shown, what="the open action in the portal", timeout=30, interval=0.5)
    await sign.click()
    await sign_form_ready(customer)
    await customer.check("#kind-typed")
    await customer.fill("#typed_name", "Jan de Vries")
    await customer.check("#consent")
    await customer.click("main button[type=submit]")
    await customer.wait_for_url("**done=signed")

    # And the portal shows the customer the times of the task's timeline in the tenant's zone (Lisbon: WET)
    async def timeline_in_lisbon_time():
        await customer.goto(customer.url)
        text = await customer.inner_text("main")
        return " WET" in text and " CET" not in text

    await eventually(timeline_in_lisbon_time, what="the portal timeline in the tenant's zone", timeout=60, interval=1)
    portal_pages = Pages(customer)
    await portal_pages.look("portal-task-signed-nl")
    await customer.select_option("#language", "en")
    await customer.click("form.lang button[type=submit]")
    await customer.wait_for_load_state()
    assert await customer.locator("html").get_attribute("lang") == "en" and " WET" in await customer.inner_text("main")
    await portal_pages.look("portal-task-signed-en")

    # And the console's task page shows the proof: the signed page inline, working PDF links, the rule's change
    image = page.locator("img.signed-page")

    async def proof_shown():
        await page.goto(task_path)
        text = await page.inner_text("main")
        ready = "Approve on document signing" in text and await page.locator(".links a").count() >= 2
        if await image.count() == 0 or not ready:
            return False
        await image.scroll_into_view_if_needed()
        return await image.evaluate("img => img.complete && img.naturalWidth > 0")

    try:
        await eventually(
            proof_shown,
            what="the signing's proof and the rule's phase change on the task page",
            timeout=120,
            interval=2,
        )
    except AssertionError:
        await page.screenshot(path=str(ARTIFACTS / "task-proof-missing.png"), full_page=True)
        raise AssertionError(await page.inner_text("main")) from None
    main = await page.inner_text("main")
    assert (
        "Jan de Vries" in main
        and "Toestemming" in main
        and ("Fase gewijzigd van Waiting for approval naar Approved door regel ‘Approve on document signing’" in main)
    )
    hrefs = await page.locator(".links a").evaluate_all("links => links.map(a => a.getAttribute('href'))")
    assert all(h.startswith("/console/files/") for h in hrefs), hrefs
    for href in hrefs:
        response = await page.request.get(tasks_url + href)
        assert response.status == 200 and (await response.body()).startswith(b"%PDF"), href
    assert "/internal/" not in await page.content() and "tenant_id=" not in await page.content()
    await pages.look("task-signed-nl")

    # And the staff timeline API gives staff links only, each opening with the staff key
    task_id = task_path.rsplit("/", 1)[1]
    urls = {name: proc.url for name, proc in running.running.items()}
    async with httpx.AsyncClient(headers={"Authorization": f"Bearer {tenant['staff_key']}"}, timeout=20) as staff:
        timeline = await staff.get(f"{urls['timeline']}/v1/tasks/{task_id}/timeline", params={"audience": "staff"})
        assert "/internal/" not in timeline.text and "tenant_id=" not in timeline.text
        links = [link for entry in timeline.json()["entries"] for link in entry["links"]]
        assert {link["rel"] for link in links} >= {"stamped_pdf", "signed_page", "sealed_pdf"}
        for link in links:
            assert (await staff.get(urls[link["service"]] + link["path"])).status_code == 200, link

    # And uploading the work order again withdraws the approval, which the document page says
    await page.goto(document_path)
    with tempfile.NamedTemporaryFile(suffix=".pdf") as pdf:
        pdf.write(a_pdf("Werkbon 12, gewijzigd", "Handtekening: {{signature}}"))
        pdf.flush()
        await page.set_input_files("#file", pdf.name)
        await page.click("main form button[type=submit]")
        await page.wait_for_url("**?done=version")

    async def withdrawn_shown():
        await page.goto(document_path)
        return "Goedkeuring ingetrokken" in await page.inner_text("main")

    await eventually(withdrawn_shown, what="the withdrawn approval on the document page", timeout=30, interval=1)
    await pages.look("document-withdrawn-nl")

    # And every page passes an axe scan at both sizes, in Dutch and (after switching) in English
    for language in ("nl", "en"):
        for name, path in (
            ("tasks", "/console/tasks"),
            ("task", task_path.split(tasks_url)[1]),
            ("contacts", "/console/contacts"),
            ("documents", "/console/documents"),
            ("rules", "/console/rules"),
            ("settings", "/console/settings"),
            ("task-new", "/console/tasks/new"),
            ("contact", contact_path),
            ("rule", rule_path),
            ("document", document_path.split(tasks_url)[1]),
        ):
            await page.goto(tasks_url + path)
            await pages.look(f"{name}-{language}")
        if language == "nl":
            await page.click("header button[lang=en]")
            await page.wait_for_load_state()
            assert await page.locator("html").get_attribute("lang") == "en"
    await page.goto(f"{tasks_url}/console/settings")
    await page.evaluate(BOGUS_ZONE)
    await page.click(TIME_ZONE_SUBMIT)
    assert "'Mars/Olympus_Mons' is not a known IANA time zone" in await page.inner_text("#time-zone-error")
    await pages.look("settings-time-zone-error-en")
    await page.goto(task_path)
    english = await page.inner_text("main")
    assert "Sign document" in english and "by rule 'Approve on document signing'" in english
    assert pages.findings + portal_pages.findings == [], "\n".join(pages.findings + portal_pages.findings)
