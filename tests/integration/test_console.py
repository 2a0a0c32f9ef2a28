"""The staff console against the real broker and database: accounts, sessions, CSRF, roles, tenants apart."""

from __future__ import annotations

import io
import re
from urllib.parse import urlsplit

import httpx
import pytest
from PIL import Image
from reportlab.lib.pagesizes import A4
from reportlab.pdfgen import canvas

from tests.integration.console_users import ENGLISH, PASSWORD, invite, post_signed_out, signed_in_user
from tests.integration.tasks_api import (
    create_contact,
    create_task,
    register_tenant,
    request_signature,
    tenant_events,
)
from tests.support.smtp import SmtpServer
from tests.support.waiting import eventually


@pytest.fixture(scope="module")
def services(stack):
    """tasks (which serves the console) and the services whose staff APIs the console reads."""
    return {name: stack.start(name) for name in ("tasks", "documents", "automation", "timeline")}


def path_of(url: str) -> str:
    parts = urlsplit(url)
    return parts.path


def a_pdf(text: str) -> bytes:
    buf = io.BytesIO()
    page = canvas.Canvas(buf, pagesize=A4)
    page.drawString(72, 700, text)
    page.showPage()
    page.save()
    return buf.getvalue()


async def test_an_invited_member_sets_a_password_once_signs_in_and_cannot_reach_the_admin_pages(services):
    url = services["tasks"].url
    tenant = await register_tenant(url)
    invitation = await invite(tenant, "member")
    async with httpx.AsyncClient(base_url=url, headers=ENGLISH) as browser:
        # Given an invitation link: it asks for a password, and a too short one is refused on the page
        link = path_of(invitation["invitation_url"])
        assert "choose your password" in (await browser.get(link)).text
        short = await browser.post(link, data={"password": "short", "repeat": "short"})
        assert short.status_code == 422 and "too short" in short.text
        # When the member sets a password, the link is used up: a second use says so
        assert (await browser.post(link, data={"password": PASSWORD, "repeat": PASSWORD})).status_code == 303
        reused = await browser.get(link)
        assert reused.status_code == 410 and "has been used already" in reused.text
        again = await browser.post(link, data={"password": PASSWORD + "x", "repeat": PASSWORD + "x"})
        assert again.status_code == 410
        # Then they sign in and see the tasks, but the settings page is for admins only
        signed = await post_signed_out(browser, "/console/login", {"email": invitation["email"], "password": PASSWORD})
        assert signed.status_code == 303
        assert (await browser.get("/console/tasks")).status_code == 200
        settings = await browser.get("/console/settings")
        assert settings.status_code == 403 and "This page is for admins." in settings.text
        assert (await browser.post("/console/settings/keys", data={"name": "x"})).status_code == 403


async def test_an_expired_invitation_is_refused_with_a_clear_page(services, stack):
    # Given a tasks replica whose invitations last about two seconds
    quick = stack.start_replica("tasks", 3, {"TASKS_CONSOLE_INVITATION_HOURS": "0.0005"})
    tenant = await register_tenant(quick.url)
    invitation = await invite(tenant, "member")
    async with httpx.AsyncClient(base_url=quick.url, headers=ENGLISH) as browser:
        link = path_of(invitation["invitation_url"])

        async def expired():
            page = await browser.get(link)
            return page if page.status_code == 410 else None

        page = await eventually(expired, timeout=20, interval=0.5, what="the invitation to expire")
        assert "This link has expired" in page.text
        refused = await browser.post(link, data={"password": PASSWORD, "repeat": PASSWORD})
        assert refused.status_code == 410
        assert (
            await post_signed_out(browser, "/console/login", {"email": invitation["email"], "password": PASSWORD})
        ).status_code == 401


async def test_a_form_posted_without_the_sessions_csrf_token_is_refused_and_changes_nothing(services):
    url = services["tasks"].url
    tenant = await register_tenant(url)
    user = await signed_in_user(url, tenant)
    contact = {"name": "Csrf Test", "email": "csrf@example.nl", "language": "nl"}
    missing = await user.browser.post("/console/contacts", data=contact)
    wrong = await user.browser.post("/console/contacts", data={**contact, "csrf_token": "forged"})
    assert missing.status_code == 403 and wrong.status_code == 403
    assert "Form expired" in missing.text
    assert (await tenant.staff.get("/v1/contacts", params={"email": "csrf@example.nl"})).json()["items"] == []
    # With the token, the same form creates the contact
    assert (await user.post("/console/contacts", contact)).status_code == 303
    # The signed-out forms carry a token too: a sign-in posted from elsewhere is refused
    async with httpx.AsyncClient(base_url=url, headers=ENGLISH) as elsewhere:
        forged = await elsewhere.post("/console/login", data={"email": user.email, "password": PASSWORD})
        assert forged.status_code == 403 and "does not belong to your session" in forged.text
        assert (await elsewhere.post("/console/forgot", data={"email": user.email})).status_code == 403


def from_address(url: str, n: int) -> httpx.AsyncClient:
    """A browser on a loopback address of its own (127.0.0.n): the failures it causes count for no other test."""
    transport = httpx.AsyncHTTPTransport(local_address=f"127.0.0.{n}")
    return httpx.AsyncClient(base_url=url, headers=ENGLISH, transport=transport)


async def test_sign_in_is_throttled_per_account_after_five_failures_even_with_the_right_password(services, stack):
    # Two replicas behind one address: the failures on either count for both
    replicas = [services["tasks"], stack.start_replica("tasks", 4)]
    tenant = await register_tenant(replicas[0].url)
    user = await signed_in_user(replicas[0].url, tenant)
    browsers = [from_address(r.url, 11) for r in replicas]
    try:
        for n in range(5):
            wrong = await post_signed_out(
                browsers[n % 2], "/console/login", {"email": user.email, "password": "wrong password!"}
            )
            assert wrong.status_code == 401 and "not right" in wrong.text
        for browser in browsers:
            throttled = await post_signed_out(browser, "/console/login", {"email": user.email, "password": PASSWORD})
            assert throttled.status_code == 429 and 0 < int(throttled.headers["Retry-After"]) <= 300
            assert "Too many attempts" in throttled.text
    finally:
        for browser in browsers:
            await browser.aclose()


async def test_sign_in_is_throttled_per_address_across_accounts(services, stack):
    replica = stack.start_replica("tasks", 5, {"TASKS_CONSOLE_LOGIN_ATTEMPTS_PER_IP": "8"})
    tenant = await register_tenant(replica.url)
    user = await signed_in_user(replica.url, tenant)
    async with from_address(replica.url, 12) as browser:
        for n in range(8):  # eight made-up accounts, one failure each: no account reaches its own limit
            assert (
                await post_signed_out(
                    browser, "/console/login", {"email": f"guess{n}@example.nl", "password": "wrong password!"}
                )
            ).status_code == 401
        assert (
            await post_signed_out(browser, "/console/login", {"email": user.email, "password": PASSWORD})
        ).status_code == 429
    # another address still signs in
    assert (await signed_in_user(replica.url, tenant)).email


async def test_signing_out_ends_the_session(services):
    url = services["tasks"].url
    user = await signed_in_user(url, await register_tenant(url))
    assert (await user.post("/console/logout")).status_code == 303
    after = await user.browser.get("/console/tasks")
    assert after.status_code == 303 and after.headers["location"].startswith("/console/login")


async def test_a_task_made_in_the_console_names_the_signed_in_user_as_its_actor(services, infra):
    url = services["tasks"].url
    tenant = await register_tenant(url)
    user = await signed_in_user(url, tenant, role="admin")
    created = await user.post("/console/tasks", {"title": "Console task", "description": "", "phase": "New"})
    assert created.status_code == 303
    task_id = created.headers["location"].split("/")[-1].split("?")[0]

    async def event():
        found = [
            e
            for e in await tenant_events(infra.kafka_bootstrap, tenant.tenant_id, "task.created")
            if e["task_id"] == task_id
        ]
        return found[0] if found else None

    actor = (await eventually(event, timeout=30, what="task.created on the bus"))["actor"]
    assert actor["kind"] == "staff_user" and actor["name"] == "Test admin"


async def test_a_stale_phase_form_says_the_phase_moved_and_shows_the_new_one(services):
    url = services["tasks"].url
    tenant = await register_tenant(url)
    user = await signed_in_user(url, tenant)
    task = await create_task(tenant, phase="New")
    # Given someone else moved the task after the form was shown
    assert (await tenant.staff.put(f"/v1/tasks/{task['id']}/phase", json={"phase": "In progress"})).status_code == 200
    stale = await user.post(f"/console/tasks/{task['id']}/phase", {"phase": "Done", "if_phase": "New"})
    assert stale.status_code == 409
    assert "now in “In progress”" in stale.text
    assert (await tenant.staff.get(f"/v1/tasks/{task['id']}")).json()["phase"] == "In progress"


async def test_one_tenants_user_gets_404_for_anothers_task_contact_document_rule_and_timeline(services):
    url = services["tasks"].url
    ours, theirs = await register_tenant(url), await register_tenant(url, name="Other BV")
    user = await signed_in_user(url, ours, role="admin")
    # Given the other tenant has a contact, a task, a document and a rule
    contact = await create_contact(theirs)
    task = await create_task(theirs, contact_id=contact["id"])
    documents = httpx.AsyncClient(
        base_url=services["documents"].url, headers={"Authorization": f"Bearer {theirs.staff_key}"}, timeout=30
    )
    automation = httpx.AsyncClient(
        base_url=services["automation"].url, headers={"Authorization": f"Bearer {theirs.staff_key}"}, timeout=30
    )

    async def uploaded():
        r = await documents.post(
            "/v1/documents", data={"title": "Theirs"}, files={"file": ("t.pdf", a_pdf("theirs"), "application/pdf")}
        )
        return r.json() if r.status_code == 201 else None

    document = await eventually(uploaded, timeout=30, interval=0.3, what="documents accepting the other key")

    async def rule_made():
        r = await automation.post(
            "/v1/rules",
            json={"name": "Theirs", "trigger": "task.signed", "actions": [{"type": "set_phase", "phase": "Approved"}]},
        )
        return r.json() if r.status_code == 201 else None

    rule = await eventually(rule_made, timeout=30, interval=0.3, what="automation accepting the other key")
    version = document["versions"][0]["id"]
    # Then every console page and file of theirs is "not found" for our user, never "forbidden"
    for path in (
        f"/console/tasks/{task['id']}",
        f"/console/contacts/{contact['id']}",
        f"/console/documents/{document['id']}",
        f"/console/rules/{rule['id']}",
        f"/console/files/documents/v1/documents/{document['id']}/versions/{version}/pdf",
        f"/console/files/documents/v1/documents/{document['id']}/versions/{version}/pages/1.png",
    ):
        response = await user.browser.get(path)
        assert response.status_code == 404, (path, response.status_code)
    assert (await user.post(f"/console/tasks/{task['id']}/phase", {"phase": "Done"})).status_code == 404
    assert (await user.post(f"/console/rules/{rule['id']}/enabled", {"enabled": "0"})).status_code == 404
    # And our own lists do not show theirs
    assert "Theirs" not in (await user.browser.get("/console/documents")).text
    assert "Theirs" not in (await user.browser.get("/console/rules")).text
    # While the other tenant still reads its own document through the staff API
    assert (await documents.get(f"/v1/documents/{document['id']}")).status_code == 200
    await documents.aclose()
    await automation.aclose()


async def test_the_console_proxies_only_staff_files_and_never_internal_paths(services):
    url = services["tasks"].url
    user = await signed_in_user(url, await register_tenant(url))
    for path in (
        "/console/files/documents/internal/v1/documents/x/versions/y/pdf",
        "/console/files/timeline/v1/tasks/x/timeline",
        "/console/files/documents/v1/documents/x/versions/y/pdf?tenant_id=z",
    ):
        assert (await user.browser.get(path)).status_code == 404


async def test_a_password_reset_link_sets_a_new_password_once_and_ends_other_sessions(services, stack):
    # Given a tasks replica that mails through a real SMTP server of the test's
    smtp = SmtpServer().start()
    try:
        replica = stack.start_replica("tasks", 6, {"AKKOORD_SMTP_URL": smtp.url})
        tenant = await register_tenant(replica.url)
        user = await signed_in_user(replica.url, tenant)
        async with httpx.AsyncClient(base_url=replica.url, headers=ENGLISH) as browser:
            asked = await post_signed_out(browser, "/console/forgot", {"email": user.email})
            assert asked.status_code == 200 and "Check your email" in asked.text
            unknown = await post_signed_out(browser, "/console/forgot", {"email": "nobody@example.nl"})
            assert unknown.text.count("Check your email") == asked.text.count("Check your email")

            async def mailed():
                return [m for m in smtp.to(user.email) if "new password" in m.subject]

            body = (await eventually(mailed, what="the reset mail"))[0].text
            link = next(line for line in body.splitlines() if "/console/reset/" in line).strip()
            new_password = "a brand new passphrase"
            assert (
                await browser.post(path_of(link), data={"password": new_password, "repeat": new_password})
            ).status_code == 303
            assert (await browser.get(path_of(link))).status_code == 410
            assert (
                await post_signed_out(browser, "/console/login", {"email": user.email, "password": PASSWORD})
            ).status_code == 401
            assert (
                await post_signed_out(browser, "/console/login", {"email": user.email, "password": new_password})
            ).status_code == 303
        # The reset ended the session the user had
        assert (await user.browser.get("/console/tasks")).status_code == 303
        assert smtp.to("nobody@example.nl") == []
    finally:
        smtp.stop()


async def test_an_admin_opens_every_console_page_and_uploads_a_document(services):
    url = services["tasks"].url
    tenant = await register_tenant(url)
    admin = await signed_in_user(url, tenant, role="admin", language="nl")
    contact = await create_contact(tenant)
    task = await create_task(tenant, contact_id=contact["id"])

    async def uploaded():  # documents learns of the tenant from tasks' events
        r = await admin.browser.post(
            "/console/documents",
            data={"title": "Werkbon", "csrf_token": await admin.csrf()},
            files={"file": ("w.pdf", a_pdf("Handtekening: {{signature}}"), "application/pdf")},
        )
        assert r.status_code in (303, 503), r.text[:3000]
        return r if r.status_code == 303 else None

    done = await eventually(uploaded, timeout=30, interval=0.5, what="the upload through the console")
    document_page = await admin.browser.get(done.headers["location"])
    assert document_page.status_code == 200 and "{{signature}}" in document_page.text
    for path in (
        "/console/tasks",
        f"/console/tasks/{task['id']}",
        "/console/contacts",
        f"/console/contacts/{contact['id']}",
        "/console/documents",
        "/console/rules",
        "/console/rules/new?example=approve",
        "/console/settings",
        "/console/tasks/new",
    ):
        page = await admin.browser.get(path)
        assert page.status_code == 200, (path, page.text[:2000])
        assert '<html lang="nl">' in page.text
    task_page = (await admin.browser.get(f"/console/tasks/{task['id']}")).text
    assert "Werkbon" in task_page and "Document ondertekenen" in task_page


def a_png() -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (40, 20), (11, 87, 208)).save(buf, format="PNG")
    return buf.getvalue()


async def test_an_admin_brands_the_tenant_and_tasks_tells_the_other_services(services, infra):
    url = services["tasks"].url
    tenant = await register_tenant(url)
    admin = await signed_in_user(url, tenant, role="admin")
    logo = a_png()
    # A colour white text is not readable on is refused, and nothing changes
    light = await admin.browser.post(
        "/console/settings/branding",
        data={"csrf_token": await admin.csrf(), "name": "Smit Installaties", "colour": "#ffcc00"},
    )
    assert light.status_code == 422 and "too light for white text" in light.text
    # When the admin saves a name, a colour and a logo
    saved = await admin.browser.post(
        "/console/settings/branding",
        data={"csrf_token": await admin.csrf(), "name": "Smit Installaties", "colour": "#0B57D0"},
        files={"logo": ("logo.png", logo, "image/png")},
    )
    assert saved.status_code == 303
    # Then the logo is public at tasks and the change is one event naming the admin, the logo by reference
    async with httpx.AsyncClient(base_url=url) as anyone:  # public: no session needed
        served = await anyone.get(f"/console/brand/{tenant.tenant_id}/logo")
    assert served.status_code == 200 and served.content == logo and served.headers["content-type"] == "image/png"

    async def branded():
        return await tenant_events(infra.kafka_bootstrap, tenant.tenant_id, "tenant.branding_changed")

    event = (await eventually(branded, timeout=30, what="tenant.branding_changed on the bus"))[-1]
    assert event["payload"]["name"] == "Smit Installaties" and event["payload"]["colour"] == "#0b57d0"
    digest = event["payload"]["logo_digest"]
    assert event["payload"]["logo_url"] == f"{url}/console/brand/{tenant.tenant_id}/logo?v={digest[:16]}"
    assert event["actor"]["kind"] == "staff_user"
    assert "Smit Installaties" in (await admin.browser.get("/console/settings")).text
    # A member may not
    member = await signed_in_user(url, tenant)
    refused = await member.browser.post(
        "/console/settings/branding", data={"csrf_token": await member.csrf(), "name": "Other"}
    )
    assert refused.status_code == 403


async def test_the_task_list_filters_by_request_state_and_phase_and_finds_by_contact(services):
    url = services["tasks"].url
    tenant = await register_tenant(url)
    user = await signed_in_user(url, tenant)
    contact = await create_contact(tenant, name="Pieter Post", email="pieter@example.nl")
    waiting = await create_task(tenant, title="Dakgoot", contact_id=contact["id"], phase="Waiting for approval")
    await request_signature(tenant, waiting["id"], contact["id"])
    await create_task(tenant, title="Schuur", phase="New")
    titles = lambda page: set(re.findall(r'<a href="/console/tasks/[^"]+">([^<]+)</a>', page.text))  # noqa: E731
    assert titles(await user.browser.get("/console/tasks")) == {"Dakgoot", "Schuur"}
    assert titles(await user.browser.get("/console/tasks", params={"state": "waiting"})) == {"Dakgoot"}
    assert titles(await user.browser.get("/console/tasks", params={"state": "signed"})) == set()
    assert titles(await user.browser.get("/console/tasks", params={"phase": "New"})) == {"Schuur"}
    assert titles(await user.browser.get("/console/tasks", params={"q": "pieter post"})) == {"Dakgoot"}
    assert titles(await user.browser.get("/console/tasks", params={"q": "schu"})) == {"Schuur"}


async def test_a_session_left_idle_past_its_limit_signs_the_user_out(services, stack):
    # Given a tasks replica whose sessions end after about a second without a request
    quick = stack.start_replica("tasks", 7, {"TASKS_CONSOLE_IDLE_MINUTES": "0.02"})
    user = await signed_in_user(quick.url, await register_tenant(quick.url))
    assert (await user.browser.get("/console/tasks")).status_code == 200

    async def signed_out():
        page = await user.browser.get("/console/tasks")
        return page if page.status_code == 303 else None

    page = await eventually(signed_out, timeout=20, interval=0.5, what="the idle session to end")
    assert page.headers["location"].startswith("/console/login?next=")
