"""The main story, end to end through all six services, using only HTTP."""

from __future__ import annotations

import httpx

from tests.support.magic_link import open_link
from tests.support.story import RULE, drawn_signature_png
from tests.support.waiting import eventually


async def test_a_customer_signs_a_task_and_every_service_reacts(running, tenant):
    urls = {name: proc.url for name, proc in running.running.items()}
    staff = httpx.AsyncClient(headers={"Authorization": f"Bearer {tenant['staff_key']}"}, timeout=10)
    customer = httpx.AsyncClient(timeout=10, follow_redirects=False)

    # Given staff with a rule, a contact and a task waiting for approval with a signature request
    r = await staff.post(f"{urls['automation']}/v1/rules", json=RULE)
    assert r.status_code == 201, r.text
    rule_id = r.json()["id"]
    contact = (
        await staff.post(
            f"{urls['tasks']}/v1/contacts",
            json={"name": "Jan de Vries", "email": "jan@example.nl", "company": "Bakkerij De Vries", "language": "nl"},
        )
    ).json()
    r = await staff.post(
        f"{urls['tasks']}/v1/tasks",
        json={
            "title": "Onderhoud ovens",
            "description": "Thermostaat vervangen",
            "phase": "Waiting for approval",
            "contact_id": contact["id"],
        },
    )
    assert r.status_code == 201, r.text
    task = r.json()
    r = await staff.post(
        f"{urls['tasks']}/v1/tasks/{task['id']}/actions",
        json={
            "contact_id": contact["id"],
            "kind": "sign_task",
            "fields": [
                {"name": "full_name", "label": "Name", "required": True},
                {"name": "remarks", "label": "Remarks", "required": False},
            ],
        },
    )
    assert r.status_code == 201, r.text
    action = r.json()
    link = (await staff.post(f"{urls['tasks']}/v1/contacts/{contact['id']}/portal-links")).json()
    assert link["url"].startswith(urls["portal"])

    # When the customer opens the magic link and confirms who signs in, the portal sets a session and lists
    # the open action
    r = await open_link(customer, link["url"])
    assert r.status_code in (302, 303), r.text
    assert "akkoord_session" in customer.cookies

    async def open_action():
        tasks = (await customer.get(f"{urls['portal']}/api/v1/tasks")).json()
        return next(
            (a for t in tasks if t["id"] == task["id"] for a in t["open_actions"] if a["id"] == action["id"]), None
        )

    await eventually(open_action, what="the open action in the portal")
    csrf = (await customer.get(f"{urls['portal']}/api/v1/session")).json()["csrf_token"]
    sign_url = f"{urls['portal']}/api/v1/actions/{action['id']}/signature"
    body = {
        "fields": {"full_name": "Jan de Vries", "remarks": "Prima gedaan"},
        "signature": {"kind": "drawn", "png_base64": drawn_signature_png()},
        "consent": True,
    }

    # A missing required field is refused, naming the field
    r = await customer.post(sign_url, json={**body, "fields": {"remarks": "x"}}, headers={"X-CSRF-Token": csrf})
    assert r.status_code == 422 and "full_name" in r.text, r.text
    # Then the signature is accepted once, and a second submit is a conflict
    r = await customer.post(sign_url, json=body, headers={"X-CSRF-Token": csrf})
    assert r.status_code == 201, r.text
    r = await customer.post(sign_url, json=body, headers={"X-CSRF-Token": csrf})
    assert r.status_code == 409, r.text

    # Then both timelines show the signing with its proof
    async def staff_signing():
        r = await staff.get(f"{urls['timeline']}/v1/tasks/{task['id']}/timeline", params={"audience": "staff"})
        return (
            next((e for e in r.json()["entries"] if e["kind"] == "task.signed"), None) if r.status_code == 200 else None
        )

    entry = await eventually(staff_signing, what="the signing in the staff timeline")
    assert entry["data"]["fields"]["full_name"] == "Jan de Vries"
    assert entry["data"]["ip"] and entry["data"]["user_agent"]

    async def portal_signing():
        detail = (await customer.get(f"{urls['portal']}/api/v1/tasks/{task['id']}")).json()
        return next((e for e in detail.get("timeline", []) if e["kind"] == "task.signed"), None)

    portal_entry = await eventually(portal_signing, what="the signing in the portal timeline")
    assert portal_entry["data"]["fields"]["full_name"] == "Jan de Vries"
    assert "ip" not in portal_entry["data"] and "user_agent" not in portal_entry["data"]

    # Then tasks marks the action completed and automation moves the phase, naming the rule
    async def settled():
        t = (await staff.get(f"{urls['tasks']}/v1/tasks/{task['id']}")).json()
        done = next(a for a in t["actions"] if a["id"] == action["id"])["status"] == "completed"
        return t if done and t["phase"] == "Approved" else None

    await eventually(settled, what="action completed and phase Approved")

    async def phase_entry():
        r = await staff.get(f"{urls['timeline']}/v1/tasks/{task['id']}/timeline", params={"audience": "staff"})
        return next(
            (
                e
                for e in r.json()["entries"]
                if e["kind"] == "task.phase_changed" and e["data"].get("to_phase") == "Approved"
            ),
            None,
        )

    change = await eventually(phase_entry, what="the phase change in the staff timeline")
    assert "Approve on signing" in (change["summary"] + str(change["data"]))

    # And signing recorded the evidence for this signing and sealed an approval certificate
    async def sealed_evidence():
        r = await staff.get(f"{urls['signing']}/v1/evidence", params={"task_id": task["id"]})
        records = r.json()["evidence"] if r.status_code == 200 else []
        return records if records and records[0]["seals"] else None

    # (sealing fetches the signature image and signs a PDF: the slowest step, given as long as elsewhere)
    records = await eventually(sealed_evidence, timeout=60, what="a sealed evidence record")
    assert len(records) == 1
    assert records[0]["seals"][0]["kind"] == "approval_certificate"
    runs = (await staff.get(f"{urls['automation']}/v1/rules/{rule_id}/runs")).json()
    assert runs, "the rule run is recorded"
    await staff.aclose()
    await customer.aclose()
