"""The tenant's branding, set by an admin in the console, on its contacts' portal pages (real stack)."""

from __future__ import annotations

import io
import re
from urllib.parse import urlsplit

import httpx
from PIL import Image

from tests.integration.console_users import signed_in_user
from tests.integration.portal_steps import portal
from tests.integration.tasks_api import create_contact, register_tenant
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
