"""Opening a magic link: the GET only shows who it signs in; the confirmation's button uses it."""

from __future__ import annotations

import httpx

from tests.integration.portal_steps import given_open_action, link_token, portal
from tests.support.magic_link import login_form, open_link
from tests.support.waiting import eventually

__all__ = ["portal"]  # the module-scoped fixture


async def contact_known(portal, given) -> bool:
    """The contact's name reaches the portal with tasks' events; the confirmation names them once it has."""
    async with httpx.AsyncClient(base_url=portal.url) as probe:
        page = await probe.get("/login", params={"token": link_token(given["tenant_id"], given["contact_id"])})
        return "Jan de Vries" in page.text


async def test_opening_a_link_shows_who_it_signs_in_and_uses_nothing_until_the_button_is_pressed(infra, portal):
    # Given a fresh link, fetched twice first as a mail scanner would
    given = await given_open_action(infra)
    await eventually(lambda: contact_known(portal, given), what="the contact in the portal")
    token = link_token(given["tenant_id"], given["contact_id"])
    async with httpx.AsyncClient(base_url=portal.url) as scanner:
        for _ in range(2):
            prefetched = await scanner.get("/login", params={"token": token})
            assert prefetched.status_code == 200 and "akkoord_session" not in prefetched.cookies
    # When the person opens it
    async with httpx.AsyncClient(base_url=portal.url) as browser:
        page = await browser.get("/login", params={"token": token})
        # Then the page names who signs in, keeps the token out of any Referer, and is never cached
        assert page.status_code == 200
        assert "Jan de Vries" in page.text and "j***@example.com" in page.text
        assert page.headers["referrer-policy"] == "no-referrer" and page.headers["cache-control"] == "no-store"
        assert "akkoord_session" not in browser.cookies
        # And pressing the button opens the session
        signed_in = await browser.post("/login", data=login_form(page.text))
        assert signed_in.status_code == 303 and "akkoord_session" in browser.cookies
        assert (await browser.get("/api/v1/session")).status_code == 200
    # And the token is in no log line of the portal
    assert token not in portal.log()


async def test_a_link_posted_from_another_site_does_not_sign_the_visitor_in(infra, portal):
    # Given an attacker's own valid link, posted to /login by a page on another site (no confirmation seen)
    given = await given_open_action(infra)
    await eventually(lambda: contact_known(portal, given), what="the contact in the portal")
    token = link_token(given["tenant_id"], given["contact_id"])
    async with httpx.AsyncClient(base_url=portal.url) as victim:
        forced = await victim.post(
            "/login", data={"token": token, "nonce": "guessed"}, headers={"Origin": "https://attacker.example"}
        )
        # Then no session is opened: the victim sees the confirmation naming whose account it is
        assert forced.status_code == 403 and "akkoord_session" not in victim.cookies
        assert "Jan de Vries" in forced.text
    # And the link was not used: its owner can still open it
    async with httpx.AsyncClient(base_url=portal.url) as owner:
        assert (await open_link(owner, f"/login?token={token}")).status_code == 303


async def test_the_confirmation_of_a_used_expired_or_forged_link_explains_it_in_the_contacts_language(infra, portal):
    given = await given_open_action(infra, language="en")
    await eventually(lambda: contact_known(portal, given), what="the contact in the portal")
    token = link_token(given["tenant_id"], given["contact_id"])
    async with httpx.AsyncClient(base_url=portal.url) as browser:
        assert (await open_link(browser, f"/login?token={token}")).status_code == 303
    async with httpx.AsyncClient(base_url=portal.url) as other:
        used = await other.get("/login", params={"token": token})
        assert used.status_code == 410 and "already used" in used.text
        forged = await other.get("/login", params={"token": token[:-3] + "abc"})
        assert forged.status_code == 400 and "akkoord_login" not in other.cookies
