"""Helpers for the console's tests: staff users invited through the admin key, signed in like a browser."""

from __future__ import annotations

import re
from dataclasses import dataclass

import httpx

from contracts import new_id
from tests.integration.tasks_api import Tenant

PASSWORD = "correct horse battery staple"
ENGLISH = {"Accept-Language": "en"}  # before sign-in the pages follow the browser's language
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
FORM_TOKEN = re.compile(r'name="form_token" value="([^"]+)"')


async def post_signed_out(browser: httpx.AsyncClient, path: str, data: dict) -> httpx.Response:
    """Post a form of a signed-out page (sign in, forgot password) as a browser does: from the page, with its
    form token."""
    page = await browser.get(path)
    return await browser.post(path, data={**data, "form_token": FORM_TOKEN.search(page.text)[1]})


@dataclass
class ConsoleUser:
    email: str
    browser: httpx.AsyncClient

    async def csrf(self, page: str = "/console/tasks") -> str:
        response = await self.browser.get(page)
        assert response.status_code == 200, response.text[:500]
        return CSRF.search(response.text)[1]

    async def post(self, path: str, data: dict | None = None, **kwargs) -> httpx.Response:
        return await self.browser.post(path, data={"csrf_token": await self.csrf(), **(data or {})}, **kwargs)


async def invite(tenant: Tenant, role: str = "member", language: str = "en") -> dict:
    email = f"{role}-{new_id()}@example.nl"
    response = await tenant.admin.post(
        "/v1/staff-users", json={"email": email, "name": f"Test {role}", "role": role, "language": language}
    )
    assert response.status_code == 201, response.text
    return response.json()


async def signed_in_user(url: str, tenant: Tenant, role: str = "member", language: str = "en") -> ConsoleUser:
    """A user who accepted their invitation and signed in (the client keeps the session cookie)."""
    invitation = await invite(tenant, role, language)
    browser = httpx.AsyncClient(base_url=url, timeout=30, headers=ENGLISH)
    path = invitation["invitation_url"].split("://", 1)[1].split("/", 1)[1]
    accepted = await browser.post("/" + path, data={"password": PASSWORD, "repeat": PASSWORD})
    assert accepted.status_code == 303, accepted.text[:500]
    signed = await post_signed_out(browser, "/console/login", {"email": invitation["email"], "password": PASSWORD})
    assert signed.status_code == 303, signed.text[:500]
    return ConsoleUser(invitation["email"], browser)
