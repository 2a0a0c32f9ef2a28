"""A tenant that asks for a second factor: its contacts confirm an e-mailed code before they can sign.

The shared portal process runs without a second factor, so this module starts its own portal process on
another port, with the same database and consumer group, and the tenant in PORTAL_OTP_TENANTS.
"""

from __future__ import annotations

import re
import subprocess
import sys
import time

import httpx
import pytest

from contracts import new_id
from deploy.local.infra import free_port
from tests.integration.portal_steps import (
    csrf,
    given_open_action,
    open_actions,
    portal_events,
    sign_body,
    signed_in,
)
from tests.support.smtp import SmtpServer
from tests.support.stack import ServiceProcess
from tests.support.waiting import eventually

OTP_TENANT = new_id()


@pytest.fixture(scope="module")
def otp_portal(stack, tmp_path_factory):
    smtp = SmtpServer().start()
    port = free_port()
    env = stack.env(
        "portal",
        {
            "PORTAL_PORT": str(port),
            "PORTAL_OPS_PORT": str(free_port()),
            "PORTAL_OTP_TENANTS": OTP_TENANT,
            "PORTAL_OTP_MAX_ATTEMPTS": "3",
            "AKKOORD_SMTP_URL": smtp.url,
        },
    )
    log_path = tmp_path_factory.mktemp("otp-portal") / "otp-portal.log"
    with open(log_path, "ab") as log:
        popen = subprocess.Popen(
            [sys.executable, "-m", "services.portal"], env=env, stdout=log, stderr=subprocess.STDOUT
        )
    proc = ServiceProcess("portal-otp", port, popen, log_path)
    deadline = time.monotonic() + 60
    while True:
        assert popen.poll() is None, proc.log()[-3000:]
        try:
            if httpx.get(f"{proc.url}/readyz", timeout=1).status_code == 200:
                break
        except httpx.HTTPError:
            pass
        assert time.monotonic() < deadline, proc.log()[-3000:]
        time.sleep(0.2)
    proc.smtp = smtp
    yield proc
    proc.stop()
    smtp.stop()


def code_in_mail(smtp: SmtpServer, email: str) -> str | None:
    """The code in the newest mail to `email`, as the SMTP server received it."""
    mails = smtp.to(email)
    if not mails:
        return None
    match = re.search(r"\b(\d{6})\b", mails[-1].text)
    return match.group(1) if match else None


async def test_a_contact_of_such_a_tenant_signs_only_after_confirming_the_mailed_code(infra, otp_portal):
    given = await given_open_action(infra, tenant_id=OTP_TENANT)
    async with signed_in(otp_portal, given["tenant_id"], given["contact_id"]) as client:
        await eventually(lambda: open_actions(client), what="the open action")
        headers = await csrf(client)
        session = (await client.get("/api/v1/session")).json()
        assert session["second_factor"] == {"required": True, "verified": False}
        url = f"/api/v1/actions/{given['action_id']}/signature"

        # Without the code, signing is refused
        refused = await client.post(url, json=sign_body(), headers=headers)
        assert refused.status_code == 403 and refused.json()["code"] == "otp_required"

        # The code goes to the contact's e-mail; a wrong one is refused, the right one opens signing
        sent = await client.post("/api/v1/session/otp", json={"action_id": given["action_id"]}, headers=headers)
        assert sent.status_code == 202 and sent.json()["sent_to"] == "j***@example.com"
        code = code_in_mail(otp_portal.smtp, "jan@example.com")
        wrong = "000000" if code != "000000" else "111111"
        assert (await verify(client, headers, given["action_id"], wrong)).status_code == 422
        assert (await verify(client, headers, given["action_id"], code)).status_code == 200
        assert (await client.post(url, json=sign_body(), headers=headers)).status_code == 201

    [event] = await eventually(lambda: portal_events(infra, "task.signed", given["action_id"]), what="task.signed")
    assert event["payload"]["evidence"]["auth_method"] == "magic_link+otp"


async def test_other_tenants_sign_without_a_code_on_the_same_portal(infra, otp_portal):
    given = await given_open_action(infra)
    async with signed_in(otp_portal, given["tenant_id"], given["contact_id"]) as client:
        await eventually(lambda: open_actions(client), what="the open action")
        response = await client.post(
            f"/api/v1/actions/{given['action_id']}/signature", json=sign_body(), headers=await csrf(client)
        )
    assert response.status_code == 201


async def test_the_signing_page_asks_for_the_code_first(infra, otp_portal):
    given = await given_open_action(infra, tenant_id=OTP_TENANT)
    sign_path = f"/actions/{given['action_id']}/sign"
    async with signed_in(otp_portal, given["tenant_id"], given["contact_id"]) as client:
        await eventually(lambda: open_actions(client), what="the open action")
        page = await client.get(sign_path)
        assert 'action="/otp/send"' in page.text and f'action="{sign_path}"' not in page.text
        token = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
        sent = await client.post(
            "/otp/send", data={"csrf_token": token, "back": sign_path, "action_id": given["action_id"]}
        )
        assert sent.headers["location"] == f"{sign_path}?otp=sent"
        code = code_in_mail(otp_portal.smtp, "jan@example.com")
        verified = await client.post(
            "/otp/verify", data={"csrf_token": token, "code": code, "back": sign_path, "action_id": given["action_id"]}
        )
        assert verified.headers["location"] == f"{sign_path}?otp=verified"
        page = await client.get(verified.headers["location"])
        assert f'action="{sign_path}"' in page.text and "you can sign now" in page.text


async def verify(client, headers, action_id: str, code: str):
    return await client.post("/api/v1/session/otp/verify", json={"code": code, "action_id": action_id}, headers=headers)


async def test_wrong_codes_lock_the_action_and_a_new_code_does_not_reset_the_count(infra, otp_portal):
    # Given a contact of a tenant that asks for a code, with PORTAL_OTP_MAX_ATTEMPTS (3 here) wrong codes allowed
    given = await given_open_action(infra, tenant_id=OTP_TENANT)
    async with signed_in(otp_portal, given["tenant_id"], given["contact_id"]) as client:
        await eventually(lambda: open_actions(client), what="the open action")
        headers = await csrf(client)
        # When they guess twice, ask for a new code, and guess again
        assert (
            await client.post("/api/v1/session/otp", json={"action_id": given["action_id"]}, headers=headers)
        ).status_code == 202
        code = code_in_mail(otp_portal.smtp, "jan@example.com")
        wrong = "000000" if code != "000000" else "111111"
        for _ in range(2):
            assert (await verify(client, headers, given["action_id"], wrong)).status_code == 422
        assert (
            await client.post("/api/v1/session/otp", json={"action_id": given["action_id"]}, headers=headers)
        ).status_code == 202
        third = await verify(client, headers, given["action_id"], wrong)
        # Then the third wrong code locks the action: even the right code of the new mail is refused, and no
        # new code is sent
        assert third.status_code == 409 and third.json()["code"] == "otp_locked"
        fresh = code_in_mail(otp_portal.smtp, "jan@example.com")
        locked = await verify(client, headers, given["action_id"], fresh)
        assert locked.status_code == 409 and locked.json()["code"] == "otp_locked"
        again = await client.post("/api/v1/session/otp", json={"action_id": given["action_id"]}, headers=headers)
        assert again.status_code == 409 and again.json()["code"] == "otp_locked"
        signed = await client.post(f"/api/v1/actions/{given['action_id']}/signature", json=sign_body(), headers=headers)
        assert signed.status_code in (403, 409)
    # And a new session does not unlock it
    async with signed_in(otp_portal, given["tenant_id"], given["contact_id"]) as client:
        refused = await client.post(
            "/api/v1/session/otp", json={"action_id": given["action_id"]}, headers=await csrf(client)
        )
        assert refused.status_code == 409 and refused.json()["code"] == "otp_locked"


async def test_declining_and_viewing_the_document_need_the_code_too(infra, otp_portal):
    # Given a document to sign for a contact of a tenant that asks for a code
    given = await given_open_action(infra, tenant_id=OTP_TENANT, kind="sign_document", digest="d" * 64)
    async with signed_in(otp_portal, given["tenant_id"], given["contact_id"]) as client:
        await eventually(lambda: open_actions(client), what="the open action")
        headers = await csrf(client)
        # Then without the code the document is not shown and declining is refused
        pdf = await client.get(f"/actions/{given['action_id']}/document.pdf")
        page = await client.get(f"/actions/{given['action_id']}/document/pages/1.png")
        assert pdf.status_code == 403 and page.status_code == 403
        declined = await client.post(
            f"/api/v1/actions/{given['action_id']}/decline", json={"reason": "No"}, headers=headers
        )
        assert declined.status_code == 403 and declined.json()["code"] == "otp_required"
        form = await client.get(f"/actions/{given['action_id']}/decline")
        assert 'action="/otp/send"' in form.text and 'name="reason"' not in form.text
        # And with the code, declining works
        await client.post("/api/v1/session/otp", json={"action_id": given["action_id"]}, headers=headers)
        code = code_in_mail(otp_portal.smtp, "jan@example.com")
        assert (await verify(client, headers, given["action_id"], code)).status_code == 200
        declined = await client.post(
            f"/api/v1/actions/{given['action_id']}/decline", json={"reason": "No"}, headers=headers
        )
        assert declined.status_code == 200
