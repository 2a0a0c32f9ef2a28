"""Every portal page state scanned with axe-core in Debian's Chromium, at 390×844 and 1280×800, in Dutch and English.

One browser walks a customer's whole story per language (log in, many open actions, a sign form empty and with
errors, a typed signature, a document with its previews, decline, the confirmations, the timeline with its proof,
verify, a reused link, a 404), and then a second-factor tenant's pages (one open action, the code asked, sent,
wrong, confirmed) on a portal process of its own. Each state is
scanned and photographed at both sizes (test-artifacts/portal/<state>-<lang>-<width>.png); the test fails on
any axe violation, whatever its impact, and on a control smaller than a finger at 390 px.
"""

from __future__ import annotations

import re
import time

import httpx
import pytest

from tests.e2e.conftest import new_tenant
from tests.support.pdfs import a_pdf
from tests.support.portal_browser import ARTIFACTS, AXE
from tests.support.smtp import SmtpServer
from tests.support.waiting import eventually

# The first test of a session also waits for the whole stack to start; on a busy machine that alone can take minutes.
pytestmark = pytest.mark.timeout(600)
SIZES = {390: {"width": 390, "height": 844}, 1280: {"width": 1280, "height": 800}}
# Controls a finger must hit at 390 px: 44×44, or 24×24 for radios and checkboxes inside a 44 px tall row.
TAP_TARGETS = """() => [...document.querySelectorAll(
    'main button, main .button, header button, header select, summary, input[type=radio], input[type=checkbox],'
    + ' input[type=file] + label, input[type=file]:not(.file-input)')]
  .filter(e => e.offsetParent !== null)
  .map(e => { const r = e.getBoundingClientRect(); const small = e.matches('input[type=radio], input[type=checkbox]');
              const row = small ? e.parentElement.getBoundingClientRect() : r;
              return {what: e.outerHTML.slice(0, 80), ok: small ? r.width >= 24 && r.height >= 24 && row.height >= 44
                                                                  : r.width >= 44 && r.height >= 44}; })
  .filter(t => !t.ok).map(t => t.what)"""
FIELDS = [
    {"name": "full_name", "label": "Naam"},
    {"name": "email", "label": "E-mailadres", "required": False},
    {"name": "phone", "label": "Telefoon", "required": False},
    {"name": "visit_date", "label": "Datum van het bezoek", "type": "date", "required": False},
    {"name": "satisfied", "label": "Het werk is naar tevredenheid", "type": "checkbox"},
]


class Scanner:
    """Scans the page as it is at both sizes, keeps screenshots, and collects every finding."""

    def __init__(self, language: str):
        self.language = language
        self.findings: list[str] = []
        self.states: list[str] = []

    async def __call__(self, page, state: str) -> None:
        name = f"{state}-{self.language}"
        self.states.append(name)
        for width, size in SIZES.items():
            await page.set_viewport_size(size)
            if not await page.evaluate("() => typeof window.axe === 'object'"):
                # evaluated through the DevTools protocol: the page's strict CSP (no inline script) stays on
                await page.evaluate(AXE.read_text())
            result = await page.evaluate("() => axe.run(document, {resultTypes: ['violations']})")
            for v in result["violations"]:
                targets = [" ".join(n["target"]) for n in v["nodes"]][:4]
                self.findings.append(f"{name} @{width}: {v['id']} ({v['impact']}): {v['help']} {targets}")
            if width == 390:
                for small in await page.evaluate(TAP_TARGETS):
                    self.findings.append(f"{name} @390: tap target under 44 px: {small}")
            await page.screenshot(path=str(ARTIFACTS / f"{name}-{width}.png"), full_page=True)
        await page.set_viewport_size(SIZES[390])


def control(action_id: str, what: str) -> str:
    """The Sign / Decline control of an action on a card."""
    return f'form[action="/actions/{action_id}/{what}"] button'


async def log_in(page, link: str, scan: Scanner | None = None) -> None:
    """Open the magic link; where the portal asks to confirm the sign-in first, scan that page and confirm."""
    await page.goto(link)
    confirm = page.locator('main form[action^="/login"] button[type=submit]')
    if await confirm.count():
        if scan:
            await scan(page, "login-confirm")
        await confirm.click()
        await page.wait_for_load_state()


async def focused(page) -> dict:
    return await page.evaluate(
        "() => ({id: document.activeElement.id, role: document.activeElement.getAttribute('role')})"
    )


async def a_story(urls: dict, tenant: dict, language: str) -> dict:
    """Staff: a contact with three open requests: a task to sign, a document to sign, a task to decline."""
    nl = language == "nl"
    async with httpx.AsyncClient(headers={"Authorization": f"Bearer {tenant['staff_key']}"}, timeout=20) as staff:
        document = (
            await staff.post(
                f"{urls['documents']}/v1/documents",
                data={"title": "Werkbon 7"},
                files={
                    "file": (
                        "wo.pdf",
                        a_pdf("Werkbon 7", "Vervangen: thermostaat", "Handtekening: {{signature}}"),
                        "application/pdf",
                    )
                },
            )
        ).json()
        contact = (
            await staff.post(
                f"{urls['tasks']}/v1/contacts",
                json={"name": "Jan de Vries", "email": f"jan.{language}@example.nl", "language": language},
            )
        ).json()

        async def task(title: str) -> dict:
            return (
                await staff.post(
                    f"{urls['tasks']}/v1/tasks",
                    json={
                        "title": title,
                        "description": "Thermostaat vervangen\nBeide ovens gecontroleerd",
                        "phase": "Waiting for approval",
                        "contact_id": contact["id"],
                    },
                )
            ).json()

        async def ask(task_id: str, **body) -> dict:
            async def requested():  # a just-uploaded document reaches tasks moments later
                r = await staff.post(
                    f"{urls['tasks']}/v1/tasks/{task_id}/actions", json={"contact_id": contact["id"], **body}
                )
                return r.json() if r.status_code == 201 else None

            return await eventually(requested, what="the request accepted", interval=0.3)

        # A Dutch business: the English customer's task to sign keeps its Dutch title, marked lang="nl".
        sign_task, sign_document, decline = (
            await task("Onderhoud ovens"),
            await task("Werkbon 7" if nl else "Work order 7"),
            await task("Extra werk" if nl else "Extra work"),
        )
        return {
            "contact": contact,
            "tasks": (sign_task, sign_document, decline),
            "sign_task": await ask(
                sign_task["id"],
                kind="sign_task",
                fields=FIELDS,
                language="nl",
                message="Wilt u het onderhoud goedkeuren?",
            ),
            "sign_document": await ask(sign_document["id"], kind="sign_document", document_id=document["id"]),
            "decline": await ask(decline["id"], kind="sign_task", fields=[]),
            "link": (await staff.post(f"{urls['tasks']}/v1/contacts/{contact['id']}/portal-links")).json()["url"],
        }


async def walk_the_story(browser, urls: dict, tenant: dict, language: str, scan: Scanner) -> None:  # noqa: F811
    given = await a_story(urls, tenant, language)
    portal = urls["portal"]
    context = await browser.new_context(viewport=SIZES[390], locale="nl-NL" if language == "nl" else "en-GB")
    page = await context.new_page()
    await log_in(page, given["link"], scan)
    ids = {kind: given[kind]["id"] for kind in ("sign_task", "sign_document", "decline")}

    async def all_open():
        await page.goto(portal + "/")
        return all([await page.locator(control(i, "sign")).count() == 1 for i in ids.values()])

    await eventually(all_open, what="three open actions on My tasks", interval=0.5)
    await scan(page, "my-tasks-many")
    # The document first (its seal is made while the other states are scanned): its previews, sharp on a
    # phone, then signed with a typed name
    await page.goto(f"{portal}/actions/{ids['sign_document']}/sign")
    previews = page.locator("figure.page img")
    await previews.first.scroll_into_view_if_needed()
    await eventually(
        lambda: previews.first.evaluate("img => img.complete && img.naturalWidth > 0"),
        what="the page preview loaded",
        interval=0.3,
    )
    assert "2x" in await previews.first.get_attribute("srcset")
    await scan(page, "sign-document")
    await page.check("#kind-typed")
    await page.fill("#typed_name", "Jan de Vries")
    await page.check("#consent")
    await page.click("form[data-sign-form] button[type=submit]")
    await page.wait_for_url(f"**/tasks/{given['tasks'][1]['id']}?done=signed")

    task_id = given["tasks"][0]["id"]
    await page.goto(f"{portal}/tasks/{task_id}")
    await scan(page, "task-open")

    # The sign form: empty, then sent empty (errors, focus on the summary), then a typed signature
    await page.click(control(ids["sign_task"], "sign"))
    await page.locator("#kind-drawn").wait_for(state="visible")
    marked = await page.locator("main h1 span").get_attribute("lang")
    assert marked == (None if language == "nl" else "nl")  # staff's Dutch in an English page says so
    await scan(page, "sign-task-empty")
    await page.click("form[data-sign-form] button[type=submit]")
    await page.locator("#error-summary").wait_for()
    assert (await focused(page)) == {"id": "error-summary", "role": "alert"}
    summary = await page.locator("#error-summary a").evaluate_all("links => links.map(a => a.hash)")
    assert summary == ["#f-full_name", "#f-satisfied", "#kind-typed", "#consent"], summary
    await scan(page, "sign-task-errors")
    await page.check("#kind-typed")
    await page.fill("#typed_name", "Jan de Vries")
    await page.fill("#f-full_name", "Jan de Vries")
    await page.check("#f-satisfied")
    await page.check("#consent")
    await scan(page, "sign-task-typed")
    await page.click("form[data-sign-form] button[type=submit]")
    await page.wait_for_url(f"**/tasks/{task_id}?done=signed")
    assert (await focused(page))["role"] == "status"
    await scan(page, "signed-confirmation")

    # Decline: empty, with its error, then declined
    await page.goto(f"{portal}/actions/{ids['decline']}/decline")
    await scan(page, "decline")
    await page.click("main form button[type=submit]")
    await page.locator("#error-summary, #reason-error").first.wait_for()
    await scan(page, "decline-error")
    await page.fill("#reason", "Het werk is nog niet af" if language == "nl" else "The work is not finished")
    await page.click("main form button[type=submit]")
    await page.wait_for_url(f"**/tasks/{given['tasks'][2]['id']}?done=declined")
    await scan(page, "declined-confirmation")

    await page.goto(f"{portal}/tasks/no-such-task")
    await scan(page, "not-found")

    # The timeline with its proof: the signed page (text to read beside it) and the sealed PDF
    sealed_link = page.locator(f'a[href="/actions/{ids["sign_document"]}/sealed/sealed_document.pdf"]')

    async def proof_shown():
        await page.goto(f"{portal}/tasks/{given['tasks'][1]['id']}")
        image = page.locator("img.signed-page")
        if not await image.count() or not await sealed_link.count():
            return False
        await image.scroll_into_view_if_needed()
        return await image.evaluate("img => img.complete && img.naturalWidth > 0")

    await eventually(proof_shown, what="the signed page and sealed PDF in the timeline", timeout=90, interval=1)
    await scan(page, "timeline-proof")
    sealed = await (await page.request.get(portal + await sealed_link.get_attribute("href"))).body()
    assert sealed.startswith(b"%PDF")

    # Verify: empty, a sealed PDF, a PDF without a seal
    await page.goto(f"{portal}/verify")
    await scan(page, "verify")
    for state, pdf in (("verify-valid", sealed), ("verify-invalid", a_pdf("Geen zegel"))):
        await page.goto(f"{portal}/verify")
        await page.set_input_files("#file", files=[{"name": "doc.pdf", "mimeType": "application/pdf", "buffer": pdf}])
        await page.click("main form button[type=submit]")
        await page.locator("main [role=status]").wait_for()
        assert (await focused(page))["role"] == "status"
        await scan(page, state)

    # Signed out, and the link opened again in a fresh browser: the page follows the browser's language
    await context.close()
    fresh = await browser.new_context(
        viewport=SIZES[390],
        locale="nl-NL" if language == "nl" else "en-GB",
        extra_http_headers={"Accept-Language": "nl" if language == "nl" else "en-GB"},
    )
    page = await fresh.new_page()
    await page.goto(given["link"])
    confirm = page.locator('main form[action^="/login"] button[type=submit]')
    if await confirm.count():
        await confirm.click()
        await page.wait_for_load_state()
    assert await page.get_attribute("html", "lang") == language
    await scan(page, "link-used")
    await page.goto(f"{portal}/")
    await scan(page, "signed-out")
    await fresh.close()


async def walk_the_second_factor(browser, urls: dict, otp: dict, language: str, scan: Scanner) -> None:  # noqa: F811
    """One open action, on a portal that asks this tenant for an e-mailed code before signing."""
    tenant, portal = otp["tenant"], otp["portal"]
    email = f"piet.{language}@example.nl"
    async with httpx.AsyncClient(headers={"Authorization": f"Bearer {tenant['staff_key']}"}, timeout=20) as staff:
        contact = (
            await staff.post(
                f"{urls['tasks']}/v1/contacts", json={"name": "Piet Jansen", "email": email, "language": language}
            )
        ).json()
        task = (
            await staff.post(
                f"{urls['tasks']}/v1/tasks",
                json={
                    "title": "Dakgoot" if language == "nl" else "Gutter",
                    "phase": "Waiting for approval",
                    "contact_id": contact["id"],
                },
            )
        ).json()
        action = (
            await staff.post(
                f"{urls['tasks']}/v1/tasks/{task['id']}/actions",
                json={"contact_id": contact["id"], "kind": "sign_task", "fields": []},
            )
        ).json()
        link = (await staff.post(f"{urls['tasks']}/v1/contacts/{contact['id']}/portal-links")).json()["url"]
    page = await browser.new_page(viewport=SIZES[390])
    await log_in(page, re.sub(r"^https?://[^/]+", portal, link))

    async def shown():
        await page.goto(portal + "/")
        return await page.locator(control(action["id"], "sign")).count() == 1

    await eventually(shown, what="the open action on My tasks", interval=0.5)
    await scan(page, "my-tasks-one")
    await page.click(control(action["id"], "sign"))
    await page.locator("#code").wait_for()
    await scan(page, "otp-required")
    await page.click('form[action="/otp/send"] button')
    await page.wait_for_url("**?otp=sent")
    await scan(page, "otp-sent")
    await page.fill("#code", "000000")
    await page.click('form[action="/otp/verify"] button')
    await page.wait_for_url("**?otp=*")
    await scan(page, "otp-wrong")
    code = await eventually(lambda: code_in_mail(otp["smtp"], email), what="the code mailed")
    await page.fill("#code", code)
    await page.click('form[action="/otp/verify"] button')
    await page.wait_for_url("**?otp=verified")
    assert (await focused(page))["role"] == "status"
    await scan(page, "otp-verified")
    await page.close()


async def code_in_mail(smtp: SmtpServer, email: str) -> str | None:
    mails = smtp.to(email)
    match = re.search(r"\b(\d{6})\b", mails[-1].text) if mails else None
    return match.group(1) if match else None


@pytest.fixture
def otp_portal(running):
    """A second portal process (same database and consumer group) that asks one fresh tenant for a code."""
    tenant = new_tenant(running, "Dakdekkers Jansen")
    smtp = SmtpServer().start()
    proc = running.start_replica("portal", 3, {"PORTAL_OTP_TENANTS": tenant["tenant_id"], "AKKOORD_SMTP_URL": smtp.url})
    yield {"tenant": tenant, "portal": proc.url, "smtp": smtp}
    proc.stop()
    smtp.stop()


def passed(scan: Scanner, started: float, at_least: int) -> None:
    assert len(scan.states) >= at_least, scan.states
    assert scan.findings == [], "\n".join(scan.findings)
    print(f"{len(scan.states)} states × 2 sizes scanned in {time.monotonic() - started:.0f}s")


@pytest.mark.parametrize("language", ["nl", "en"])
async def test_every_page_of_a_customers_story_passes_axe_at_phone_and_desktop_size(running, tenant, browser, language):  # noqa: F811
    started, scan = time.monotonic(), Scanner(language)
    await walk_the_story(browser, {name: proc.url for name, proc in running.running.items()}, tenant, language, scan)
    passed(scan, started, 16)


async def test_the_second_factor_pages_pass_axe_at_phone_and_desktop_size_in_dutch_and_english(
    running, otp_portal, browser
):  # noqa: F811
    urls = {name: proc.url for name, proc in running.running.items()}
    for language in ("nl", "en"):
        started, scan = time.monotonic(), Scanner(language)
        await walk_the_second_factor(browser, urls, otp_portal, language, scan)
        passed(scan, started, 5)
