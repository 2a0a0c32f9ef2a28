"""The portal in a browser: where screenshots go, the phone's screen, and a customer's way to the sign form."""

from __future__ import annotations

from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts" / "portal"
AXE = ROOT / "services" / "portal" / "web" / "node_modules" / "axe-core" / "axe.min.js"  # npm axe-core
PHONE = {"width": 390, "height": 844}
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]


async def a_signature_request(running, tenant, *, language: str, title: str) -> dict:
    """Staff: a contact, a task waiting for approval, a sign_task request, and the contact's magic link."""
    urls = {name: proc.url for name, proc in running.running.items()}
    async with httpx.AsyncClient(headers={"Authorization": f"Bearer {tenant['staff_key']}"}, timeout=10) as staff:
        contact = (
            await staff.post(
                f"{urls['tasks']}/v1/contacts",
                json={"name": "Jan de Vries", "email": "jan@example.nl", "language": language},
            )
        ).json()
        task = (
            await staff.post(
                f"{urls['tasks']}/v1/tasks",
                json={
                    "title": title,
                    "description": "Thermostaat vervangen",
                    "phase": "Waiting for approval",
                    "contact_id": contact["id"],
                },
            )
        ).json()
        action = (
            await staff.post(
                f"{urls['tasks']}/v1/tasks/{task['id']}/actions",
                json={
                    "contact_id": contact["id"],
                    "kind": "sign_task",
                    "fields": [
                        {"name": "full_name", "label": "Naam" if language == "nl" else "Name", "required": True}
                    ],
                },
            )
        ).json()
        link = (await staff.post(f"{urls['tasks']}/v1/contacts/{contact['id']}/portal-links")).json()
    return {"task": task, "action": action, "link": link["url"], "portal": urls["portal"]}


async def sign_form_ready(page) -> None:
    """The page's script has run: the drawing option it adds is shown (and chosen, on a fresh form)."""
    await page.locator("#kind-drawn").wait_for(state="visible")
