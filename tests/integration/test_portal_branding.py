"""The tenant's branding and time zone, set by an admin in the console, on its contacts' portal pages (real
stack)."""

from __future__ import annotations

import io
import re
from urllib.parse import urlsplit

import httpx
from PIL import Image

from tests.integration.console_users import signed_in_user
from tests.integration.portal_steps import portal
from tests.integration.tasks_api import create_contact, create_task, register_tenant, request_signature
from tests.support.magic_link import login_form
from tests.support.waiting import eventually

__all__ = ["portal"]  # the module-scoped fixture


def a_png() -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (60, 30), (11, 87, 208)).save(buf, format="PNG")
    return buf.getvalue()


async def a_link(tenant, contact_id: str) -> str:
    response = await tenant.staff.post(f"/v1/contacts/{contact_id}/portal-links")
    assert response.status_code == 201, response.text
    return response.json()["url"].split("token=")[1]


async def test_a_branded_tenants_contact_sees_its_name_logo_and_colour_and_others_see_the_plain_portal(
    tasks_service, portal
):
    # Given a tenant whose admin set a name, a colour and a logo in the console
    tenant = await register_tenant(tasks_service.url)
    admin = await signed_in_user(tasks_service.url, tenant, role="admin")
    saved = await admin.browser.post(
        "/console/settings/branding",
        data={"csrf_token": await admin.csrf(), "name": "Smit & Zonen", "colour": "#0B57D0"},
        files={"logo": ("logo.png", a_png(), "image/png")},
    )
    assert saved.status_code == 303
    contact = await create_contact(tenant, language="en")
    token = await a_link(tenant, contact["id"])
    async with httpx.AsyncClient(base_url=portal.url) as browser:
        # When the contact opens their link: the confirmation already shows the tenant (once the portal knows it)
        async def branded_confirmation():
            page = await browser.get("/login", params={"token": token})
            return page if page.status_code == 200 and "Smit &amp; Zonen" in page.text else None

        confirmation = await eventually(branded_confirmation, what="the branded sign-in confirmation")
        signed_in = await browser.post("/login", data=login_form(confirmation.text))
        assert signed_in.status_code == 303
        page = await browser.get("/")
    # Then the header carries the tenant's name, its logo (from tasks' public URL, named by the tenant) and colour
    assert page.status_code == 200
    logo = re.search(r'<img class="logo" src="([^"]+)" alt="Smit &amp; Zonen"', page.text)
    assert logo, page.text
    logo_url = logo.group(1).replace("&amp;", "&")
    assert logo_url.startswith(f"{tasks_service.url}/console/brand/{tenant.tenant_id}/logo")
    assert "background: #0b57d0" in page.text and 'class="bar branded"' in page.text
    # and the page's policy allows exactly the logo's origin and that one style, nothing inline besides
    origin = "{0.scheme}://{0.netloc}".format(urlsplit(logo_url))
    csp = page.headers["content-security-policy"]
    assert f"img-src 'self' data: {origin};" in csp and "style-src 'self' 'sha256-" in csp
    assert "unsafe-inline" not in csp
    async with httpx.AsyncClient() as anyone:
        served = await anyone.get(logo_url)
    assert served.status_code == 200 and served.headers["content-type"] == "image/png"

    # And a contact of a tenant without branding sees today's portal
    plain = await register_tenant(tasks_service.url)
    other = await create_contact(plain, language="en")
    other_token = await a_link(plain, other["id"])
    async with httpx.AsyncClient(base_url=portal.url) as browser:

        async def confirmation_of_other():
            shown = await browser.get("/login", params={"token": other_token})
            return shown if shown.status_code == 200 else None

        shown = await eventually(confirmation_of_other, what="the other contact known to the portal")
        assert (await browser.post("/login", data=login_form(shown.text))).status_code == 303
        plain_page = await browser.get("/")
    assert '<a class="brand" href="/">Akkoord</a>' in plain_page.text and "Smit" not in plain_page.text
    assert "img-src 'self' data:;" in plain_page.headers["content-security-policy"]


async def test_an_admin_moves_the_tenant_to_another_time_zone_and_its_contacts_pages_follow(
    tasks_service, portal, stack
):
    stack.start("automation")  # the settings page lists the tenant's webhooks, which automation keeps
    # Given a tenant in Europe/Amsterdam whose contact has a request due at noon UTC
    tenant = await register_tenant(tasks_service.url)
    admin = await signed_in_user(tasks_service.url, tenant, role="admin")
    contact = await create_contact(tenant, language="en")
    task = await create_task(tenant, contact_id=contact["id"])
    await request_signature(tenant, task["id"], contact["id"], expires_at="2030-01-15T12:00:00Z")
    token = await a_link(tenant, contact["id"])
    async with httpx.AsyncClient(base_url=portal.url) as browser:

        async def confirmation():
            page = await browser.get("/login", params={"token": token})
            return page if page.status_code == 200 else None

        assert (await browser.post("/login", data=login_form((await eventually(confirmation)).text))).status_code == 303

        async def deadline_reads(text: str):
            page = await browser.get("/")
            return page.text if text in page.text else None

        await eventually(lambda: deadline_reads("15 January 2030, 13:00 CET"), what="the deadline in Amsterdam time")

        # When the admin picks a zone that is not one, the settings page says so, naming it, and nothing changes
        wrong = await admin.browser.post(
            "/console/settings/time-zone", data={"csrf_token": await admin.csrf(), "time_zone": "Mars/Olympus_Mons"}
        )
        assert wrong.status_code == 422
        assert "&#39;Mars/Olympus_Mons&#39; is not a known IANA time zone" in wrong.text
        # (and so does the API, for an admin key; a staff key may not change it at all)
        api_wrong = await tenant.admin.put("/v1/tenant/time-zone", json={"time_zone": "Mars/Olympus_Mons"})
        assert api_wrong.status_code == 422 and "'Mars/Olympus_Mons'" in api_wrong.json()["detail"]
        assert (await tenant.staff.put("/v1/tenant/time-zone", json={"time_zone": "Asia/Tokyo"})).status_code == 403
        assert 'value="Europe/Amsterdam" selected' in (await admin.browser.get("/console/settings")).text

        # And when the admin picks Asia/Tokyo in the settings page
        saved = await admin.browser.post(
            "/console/settings/time-zone", data={"csrf_token": await admin.csrf(), "time_zone": "Asia/Tokyo"}
        )
        assert saved.status_code == 303
        assert 'value="Asia/Tokyo" selected' in (await admin.browser.get("/console/settings")).text

        # Then the contact's page shows the same deadline in Tokyo time (noon UTC is 21:00 there)
        page = await eventually(
            lambda: deadline_reads("15 January 2030, 21:00 JST"), what="the deadline in the tenant's new zone"
        )
    assert "13:00" not in page
    # and so does the console's task page, for staff of that tenant
    console_page = (await admin.browser.get(f"/console/tasks/{task['id']}")).text
    assert "15 Jan 2030, 21:00 JST" in console_page and "13:00 CET" not in console_page
