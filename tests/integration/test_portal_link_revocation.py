"""Staff revoke a contact's magic links: unused links are refused and the sessions they opened end."""

from __future__ import annotations

import httpx

from tests.integration.portal_steps import portal
from tests.integration.tasks_api import (
    create_contact,
    register_tenant,
)
from tests.support.magic_link import open_link
from tests.support.waiting import eventually

__all__ = ["portal"]  # the module-scoped fixture


async def a_link(tenant, contact_id: str) -> str:
    response = await tenant.staff.post(f"/v1/contacts/{contact_id}/portal-links")
    assert response.status_code == 201, response.text
    return response.json()["url"].split("token=")[1]


async def test_a_revoked_link_is_refused_and_the_session_it_opened_ends(tasks_service, portal):
    # Given a contact who opened one magic link and has another one unused
    tenant = await register_tenant(tasks_service.url)
    contact = await create_contact(tenant, language="en")
    used, unused = await a_link(tenant, contact["id"]), await a_link(tenant, contact["id"])
    async with httpx.AsyncClient(base_url=portal.url) as browser:

        async def signed_in():
            return (await open_link(browser, f"/login?token={used}")).status_code == 303

        await eventually(signed_in, what="the contact known to the portal and signed in")
        assert (await browser.get("/api/v1/session")).status_code == 200

        # When staff revoke the contact's links
        revoked = await tenant.staff.post(f"/v1/contacts/{contact['id']}/portal-links/revoke")
        assert revoked.status_code == 200 and revoked.json()["link_generation"] == 1

        # Then the open session ends, and the unused link is refused, saying it was revoked
        async def session_ended():
            return (await browser.get("/api/v1/session")).status_code == 401

        await eventually(session_ended, what="the session ended")
    async with httpx.AsyncClient(base_url=portal.url) as other:
        refused = await other.get("/login", params={"token": unused})
        assert refused.status_code == 410 and "revoked" in refused.text
        # And a link issued after the revocation works
        fresh = await a_link(tenant, contact["id"])
        assert (await open_link(other, f"/login?token={fresh}")).status_code == 303
    # And another tenant cannot revoke this contact's links
    stranger = await register_tenant(tasks_service.url)
    assert (await stranger.staff.post(f"/v1/contacts/{contact['id']}/portal-links/revoke")).status_code == 404
