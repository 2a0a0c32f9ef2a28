"""The customer's invitation mail, as they see it: rendered in Chromium, its button opening the portal on the task.

Every service runs as a process; the mail comes from the notifications service through a real SMTP server
on loopback. Screenshots of the mail (phone and desktop, Dutch and English) go to test-artifacts/mail/.
"""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from contracts import new_id
from tests.support.portal_browser import AXE
from tests.support.waiting import eventually

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts" / "mail"
SIZES = {"phone": {"width": 390, "height": 844}, "desktop": {"width": 1280, "height": 800}}
BUTTON = {"nl": "Bekijken en ondertekenen", "en": "Review and sign"}


async def an_invitation(running, tenant, language: str) -> tuple[dict, dict, object]:
    """Staff ask a new contact to sign a task; the mail that reaches the contact's inbox."""
    email = f"{new_id()[:10]}@example.nl"
    tasks = running.running["tasks"].url
    async with httpx.AsyncClient(headers={"Authorization": f"Bearer {tenant['staff_key']}"}, timeout=10) as staff:
        contact = (
            await staff.post(
                f"{tasks}/v1/contacts", json={"name": "Jan de Vries", "email": email, "language": language}
            )
        ).json()
        task = (
            await staff.post(
                f"{tasks}/v1/tasks",
                json={
                    "title": "Onderhoud ovens",
                    "description": "Thermostaat vervangen",
                    "phase": "Waiting for approval",
                    "contact_id": contact["id"],
                },
            )
        ).json()
        action = (
            await staff.post(
                f"{tasks}/v1/tasks/{task['id']}/actions",
                json={
                    "contact_id": contact["id"],
                    "kind": "sign_task",
                    "message": "Graag voor vrijdag.",
                    "fields": [{"name": "full_name", "label": "Naam", "required": True}],
                },
            )
        ).json()

    async def arrived():
        return running.smtp.to(email)

    [mail] = await eventually(arrived, timeout=30, what=f"the invitation to {email}")
    return task, action, mail


@pytest.mark.parametrize("language", ["nl", "en"])
async def test_the_invitation_mails_button_opens_the_portal_on_the_tasks_open_action(
    running, tenant, browser, language
):
    task, action, mail = await an_invitation(running, tenant, language)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)

    # Given the mail as the customer's mail program shows it, readable at both sizes (no serious axe finding)
    page = await browser.new_page(viewport=SIZES["phone"])
    await page.set_content(mail.html)
    await page.evaluate(AXE.read_text())
    findings = []
    for size, viewport in SIZES.items():
        await page.set_viewport_size(viewport)
        await page.screenshot(path=str(ARTIFACTS / f"invitation-{language}-{size}.png"), full_page=True)
        result = await page.evaluate("() => axe.run(document, {resultTypes: ['violations']})")
        findings += [
            f"{size}: {v['id']} ({v['impact']})" for v in result["violations"] if v["impact"] in ("serious", "critical")
        ]
    assert findings == []
    await page.set_viewport_size(SIZES["phone"])
    button = page.get_by_role("link", name=BUTTON[language])
    assert await button.count() == 1

    # When they press its button, and then the portal's Sign in
    await button.click()
    async with page.expect_navigation(url=f"**/tasks/{task['id']}"):
        await page.click('form[action="/login"] button[type="submit"]')

    # Then the portal is open, signed in, on the task, where its open action waits to be signed
    await page.locator(f'form[action="/actions/{action["id"]}/sign"] button').wait_for(state="visible")
    await page.screenshot(path=str(ARTIFACTS / f"landed-{language}.png"), full_page=True)
