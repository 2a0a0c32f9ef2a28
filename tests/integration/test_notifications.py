"""Notifications: the contact learns that something waits, staff learn that it was signed — by real mail.

tasks, portal, signing and notifications run as processes on the real broker and database; the mail goes
to a real SMTP server on loopback (aiosmtpd, in this test process), which can refuse an address or be away.
"""

from __future__ import annotations

import json
import re
from datetime import timedelta

import httpx
import pytest

from contracts import new_id, utcnow
from contracts.topics import TASKS_EVENTS
from tests.integration.console_users import signed_in_user
from tests.integration.portal_steps import sign_body
from tests.integration.tasks_api import Tenant, create_contact, create_task, register_tenant, request_signature
from tests.support.bus import publish, read_events
from tests.support.magic_link import open_link
from tests.support.waiting import eventually

FAST_RETRIES = {
    "NOTIFICATIONS_RETRY_BASE_SECONDS": "0.5",
    "NOTIFICATIONS_RETRY_MAX_DELAY_SECONDS": "1",
    "NOTIFICATIONS_POLL_SECONDS": "0.2",
}
LINK = re.compile(r"(http://\S+/login\?token=[\w.\-]+)")


@pytest.fixture(scope="module")
def services(stack):
    stack.stop("notifications")  # started again with quick retries, so an outage test takes seconds
    running = {name: stack.start(name) for name in ("tasks", "portal", "signing")}
    running["notifications"] = stack.start("notifications", FAST_RETRIES)
    yield running
    stack.stop("notifications")


@pytest.fixture
def mailbox(smtp):
    """The session's SMTP server, back up after a test that took it away."""
    yield smtp
    if smtp.controller is None:
        smtp.start()


async def a_tenant(services, **prefs) -> Tenant:
    tenant = await register_tenant(services["tasks"].url, name="Schilderwerken Bos")
    url = f"{services['notifications'].url}/v1/notification-settings"

    async def known() -> bool:
        r = await tenant.admin.put(url, json=prefs)
        return r.status_code == 200

    await eventually(known, what="the tenant's keys projected into notifications")
    return tenant


def an_address() -> str:
    return f"{new_id()[:10]}@example.nl"


async def mails_to(smtp, address: str, count: int = 1, timeout: float = 30):
    async def arrived():
        found = smtp.to(address)
        return found if len(found) >= count else None

    return await eventually(arrived, timeout=timeout, what=f"{count} mail(s) to {address}")


async def notifications_of(services, tenant: Tenant, task_id: str) -> list[dict]:
    async with httpx.AsyncClient(headers=tenant.staff.headers) as client:
        r = await client.get(f"{services['notifications'].url}/v1/notifications", params={"task_id": task_id})
    assert r.status_code == 200, r.text
    return r.json()["notifications"]


async def a_request(tenant: Tenant, address: str, language: str = "en", title: str = "Paint the facade", **extra):
    contact = await create_contact(tenant, email=address, language=language, name="Jan de Vries")
    task = await create_task(tenant, title=title, contact_id=contact["id"])
    action = await request_signature(tenant, task["id"], contact["id"], **extra)
    return contact, task, action


async def test_the_requested_action_mail_arrives_in_the_contacts_language_with_a_link_that_opens_a_portal_session(
    services, mailbox
):
    tenant = await a_tenant(services, reply_to="office@bos.example")
    address = an_address()
    _, task, action = await a_request(tenant, address, language="en", message="Please sign today.")

    [mail] = await mails_to(mailbox, address)
    assert mail.subject == "Schilderwerken Bos asks for your approval: Paint the facade"
    assert "Please sign today." in mail.text and "Review and sign" in mail.html
    assert str(mail.message["Reply-To"]) == "office@bos.example"
    assert "Schilderwerken Bos" in str(mail.message["From"])

    # The button's link opens a portal session and lands on the task
    link = LINK.search(mail.text).group(1)
    async with httpx.AsyncClient(timeout=10) as browser:
        opened = await open_link(browser, link)
        assert opened.status_code == 303 and opened.headers["location"] == f"/tasks/{task['id']}"
        session = await browser.get(f"{services['portal'].url}/api/v1/session")
        assert session.status_code == 200
        tasks = (await browser.get(f"{services['portal'].url}/api/v1/tasks")).json()
        assert action["id"] in [a["id"] for t in tasks for a in t["open_actions"]]
        # ...once: a link from a mail is single-use like any magic link
        async with httpx.AsyncClient(timeout=10) as stranger:
            assert (await open_link(stranger, link)).status_code == 410

    dutch = an_address()
    await a_request(tenant, dutch, language="nl")
    [mail] = await mails_to(mailbox, dutch)
    assert mail.subject == "Schilderwerken Bos vraagt uw akkoord: Paint the facade"
    assert "Bekijken en ondertekenen" in mail.text


async def test_a_reminder_and_the_expiry_reach_the_contact_and_staff_learn_of_the_expiry(services, mailbox):
    staff = an_address()
    tenant = await a_tenant(services, staff_address=staff)
    address, now = an_address(), utcnow()
    # tasks looks for due reminders and expiries every 5 s: the reminder is due well before the expiry
    await a_request(
        tenant,
        address,
        remind_at=[(now + timedelta(seconds=1)).isoformat()],
        expires_at=(now + timedelta(seconds=12)).isoformat(),
    )

    mails = await mails_to(mailbox, address, 3, timeout=60)
    assert [m.subject.split(":")[0] for m in mails] == [
        "Schilderwerken Bos asks for your approval",
        "Reminder",
        "Expired",
    ]
    assert LINK.search(mails[1].text), "a reminder carries a fresh link"
    assert not LINK.search(mails[2].text), "an expired request has nothing left to open"
    [to_staff] = await mails_to(mailbox, staff)
    assert to_staff.subject == "Verlopen: Paint the facade (Jan de Vries)"


async def test_staff_get_the_signed_and_the_declined_mails_and_the_signer_gets_the_proof(services, mailbox):
    staff = an_address()
    tenant = await a_tenant(services, staff_address=staff, staff_language="en")
    address = an_address()
    contact, task, signed = await a_request(tenant, address)
    declined = await request_signature(tenant, task["id"], contact["id"])
    first, _ = await mails_to(mailbox, address, 2)

    async with httpx.AsyncClient(base_url=services["portal"].url, timeout=10) as browser:
        assert (await open_link(browser, LINK.search(first.text).group(1))).status_code == 303
        headers = {"X-CSRF-Token": (await browser.get("/api/v1/session")).json()["csrf_token"]}
        r = await browser.post(f"/api/v1/actions/{signed['id']}/signature", json=sign_body(), headers=headers)
        assert r.status_code == 201, r.text
        r = await browser.post(
            f"/api/v1/actions/{declined['id']}/decline", headers=headers, json={"reason": "The colour is wrong"}
        )
        assert r.status_code == 200, r.text

    to_staff = await mails_to(mailbox, staff, 2)
    subjects = sorted(m.subject for m in to_staff)
    assert subjects == ["Declined: Paint the facade by Jan de Vries", "Signed: Paint the facade by Jan de Vries"]
    assert "The colour is wrong" in next(m.text for m in to_staff if m.subject.startswith("Declined"))

    proof = (await mails_to(mailbox, address, 3, timeout=60))[2]
    assert proof.subject == "Thank you: your approval of Paint the facade is recorded"
    assert LINK.search(proof.text), "the proof is one click away in the portal"
    [pdf] = list(proof.message.iter_attachments())
    assert pdf.get_filename() == "approval-certificate.pdf" and pdf.get_content().startswith(b"%PDF")


async def test_an_smtp_server_that_is_down_delays_mail_without_losing_it(services, mailbox):
    tenant = await a_tenant(services)
    address = an_address()
    mailbox.stop()
    _, task, _ = await a_request(tenant, address)

    async def deferred():
        found = await notifications_of(services, tenant, task["id"])
        return found and found[0]["status"] == "pending" and found[0]["attempt_count"] >= 2 and found

    [waiting] = await eventually(deferred, what="the mail tried and deferred while the server is away")
    assert "could not reach" in waiting["last_error"]

    mailbox.start()
    await mails_to(mailbox, address)

    async def sent():
        found = await notifications_of(services, tenant, task["id"])
        return found[0]["status"] == "sent" and found

    await eventually(sent, what="the mail recorded as sent")


async def test_a_550_marks_the_mail_failed_once_without_retrying(services, mailbox):
    tenant = await a_tenant(services)
    gone, later = an_address(), an_address()
    mailbox.refuse(gone)
    _, task, _ = await a_request(tenant, gone)

    async def failed():
        found = await notifications_of(services, tenant, task["id"])
        return found and found[0]["status"] == "failed" and found

    [record] = await eventually(failed, what="the refused mail recorded as failed")
    assert "550" in record["last_error"] and record["attempt_count"] == 1

    await a_request(tenant, later)  # mail after it goes out; the refused one was not tried again meanwhile
    await mails_to(mailbox, later)
    assert mailbox.refusals_of(gone) == 1


async def test_a_redelivered_event_sends_no_second_mail(services, mailbox, infra):
    tenant = await a_tenant(services)
    address, sentinel = an_address(), an_address()
    contact, task, action = await a_request(tenant, address)
    await mails_to(mailbox, address)

    [requested] = [
        body
        for body, _ in await read_events(infra.kafka_bootstrap, TASKS_EVENTS)
        if body.get("type") == "task.action_requested" and body["payload"]["action"]["action_id"] == action["id"]
    ]
    await publish(infra.kafka_bootstrap, TASKS_EVENTS, json.dumps(requested).encode(), key=task["id"])
    # A later request on the same task (same key, so handled after the redelivery) shows it was handled.
    other = await create_contact(tenant, email=sentinel, language="en")
    await request_signature(tenant, task["id"], other["id"])
    await mails_to(mailbox, sentinel)
    assert len(mailbox.to(address)) == 1


async def test_no_mail_goes_to_the_contact_when_staff_ask_for_none_or_the_tenant_turned_the_kind_off(services, mailbox):
    tenant = await a_tenant(services, disabled=["action_cancelled"])
    quiet, sentinel = an_address(), an_address()
    contact, task, action = await a_request(tenant, quiet, notify=False)
    r = await tenant.staff.post(f"/v1/tasks/{task['id']}/actions/{action['id']}/cancel", json={"reason": "typo"})
    assert r.status_code == 200, r.text
    other = await create_contact(tenant, email=sentinel, language="en")
    await request_signature(tenant, task["id"], other["id"])
    await mails_to(mailbox, sentinel)
    assert mailbox.to(quiet) == []


async def test_a_newline_in_a_title_adds_no_header_to_the_mail(services, mailbox):
    tenant = await a_tenant(services)
    address = an_address()
    await a_request(tenant, address, title="Paint\r\nBcc: evil@attacker.example")
    [mail] = await mails_to(mailbox, address)
    assert mail.message["Bcc"] is None and mail.rcpt_tos == [address]
    assert mail.subject == "Schilderwerken Bos asks for your approval: Paint Bcc: evil@attacker.example"
    assert mailbox.to("evil@attacker.example") == []


async def test_the_console_user_who_asked_gets_the_staff_mail_instead_of_the_tenants_address(services, mailbox):
    office = an_address()
    tenant = await a_tenant(services, staff_address=office, staff_language="en")
    user = await signed_in_user(services["tasks"].url, tenant)
    address = an_address()
    contact = await create_contact(tenant, email=address, language="en", name="Jan de Vries")
    task = await create_task(tenant, title="Paint the fence", contact_id=contact["id"])
    asked = await user.post(
        f"/console/tasks/{task['id']}/actions",
        {"kind": "sign_task", "contact_id": contact["id"], "field_label": "Name"},
    )
    assert asked.status_code == 303, asked.text[:500]

    [invitation] = await mails_to(mailbox, address)
    async with httpx.AsyncClient(base_url=services["portal"].url, timeout=10) as browser:
        assert (await open_link(browser, LINK.search(invitation.text).group(1))).status_code == 303
        action_id = (await browser.get("/api/v1/tasks")).json()[0]["open_actions"][0]["id"]
        headers = {"X-CSRF-Token": (await browser.get("/api/v1/session")).json()["csrf_token"]}
        r = await browser.post(f"/api/v1/actions/{action_id}/decline", headers=headers, json={"reason": "Too dark"})
        assert r.status_code == 200, r.text

    # (their first mail was the console's invitation to sign in)
    declined = (await mails_to(mailbox, user.email, 2))[-1]
    assert declined.subject == "Declined: Paint the fence by Jan de Vries" and "Too dark" in declined.text
    assert mailbox.to(office) == []


async def test_mails_take_the_name_and_colour_the_tenants_admin_chose(services, mailbox, infra):
    from contracts.messages import TenantBrandingChanged, TenantBrandingPayload

    tenant = await a_tenant(services)
    # Given tasks told of new branding (an admin saved it in the console)
    await publish(
        infra.kafka_bootstrap,
        TASKS_EVENTS,
        TenantBrandingChanged(
            tenant_id=tenant.tenant_id, payload=TenantBrandingPayload(name="Bos & Zonen", colour="#146c2e")
        ),
    )

    # Then a request mailed after it is in the new name and colour (tenant events travel on their own key,
    # so a request may overtake it: each try is a new request to a new address)
    async def branded_mail():
        address = an_address()
        await a_request(tenant, address)
        [mail] = await mails_to(mailbox, address)
        return mail if mail.subject.startswith("Bos & Zonen asks") else None

    mail = await eventually(branded_mail, timeout=60, interval=0.5, what="a mail in the new name")
    assert "#146c2e" in mail.html


async def test_a_mails_deadline_is_in_the_time_zone_the_tenants_admin_chose(services, mailbox):
    tenant = await a_tenant(services)
    # Given the tenant's admin moved it to Tokyo
    moved = await tenant.admin.put("/v1/tenant/time-zone", json={"time_zone": "Asia/Tokyo"})
    assert moved.status_code == 200, moved.text

    # Then a request with a deadline at noon UTC, mailed once notifications learned it, says 21:00 JST (tenant
    # events travel on their own key, so a request may overtake the change: each try is a new request)
    async def mail_in_tokyo_time():
        address = an_address()
        await a_request(tenant, address, expires_at="2030-01-15T12:00:00Z")
        [mail] = await mails_to(mailbox, address)
        return mail if "Tuesday 15 January 2030 at 21:00 JST" in mail.text else None

    await eventually(mail_in_tokyo_time, timeout=60, interval=0.5, what="a deadline in Tokyo time")


async def test_a_mail_sent_after_staff_revoked_the_contacts_links_carries_a_link_that_works(services, mailbox):
    tenant = await a_tenant(services)
    address = an_address()
    contact = await create_contact(tenant, email=address, language="en", name="Jan de Vries")
    old = (await tenant.staff.post(f"/v1/contacts/{contact['id']}/portal-links")).json()["url"]
    assert (await tenant.staff.post(f"/v1/contacts/{contact['id']}/portal-links/revoke")).status_code in (200, 204)

    async def old_link_refused():
        async with httpx.AsyncClient(timeout=10) as browser:
            return (await open_link(browser, old)).status_code == 410

    await eventually(old_link_refused, what="the revocation known to the portal")
    task = await create_task(tenant, title="Paint the shed", contact_id=contact["id"])
    await request_signature(tenant, task["id"], contact["id"])

    [mail] = await mails_to(mailbox, address)
    async with httpx.AsyncClient(timeout=10) as browser:
        opened = await open_link(browser, LINK.search(mail.text).group(1))
    assert opened.status_code == 303 and opened.headers["location"] == f"/tasks/{task['id']}"
