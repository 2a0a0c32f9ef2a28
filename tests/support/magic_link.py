"""Opening a magic link as a person does: the link shows who it signs in (GET), the button uses it (POST)."""

from __future__ import annotations

from html.parser import HTMLParser

import httpx


class _LoginForm(HTMLParser):
    def __init__(self):
        super().__init__()
        self.fields: dict[str, str] = {}
        self._inside = False

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "form":
            self._inside = attrs.get("action") == "/login"
        elif tag == "input" and self._inside and attrs.get("name"):
            self.fields[attrs["name"]] = attrs.get("value") or ""

    def handle_endtag(self, tag):
        if tag == "form":
            self._inside = False


def login_form(html: str) -> dict[str, str]:
    """The fields the confirmation page posts to /login (the token and this browser's nonce)."""
    parser = _LoginForm()
    parser.feed(html)
    return parser.fields


async def open_link(client: httpx.AsyncClient, url: str) -> httpx.Response:
    """The confirmation's answer when it refuses the link, otherwise the answer to pressing its button."""
    page = await client.get(url)
    if page.status_code != 200:
        return page
    return await client.post(page.url.join("/login"), data=login_form(page.text))


def open_link_sync(client: httpx.Client, url: str) -> httpx.Response:
    page = client.get(url)
    if page.status_code != 200:
        return page
    return client.post(page.url.join("/login"), data=login_form(page.text))


async def press_sign_in(page) -> None:
    """In a browser that opened the link: press the confirmation's button and wait for My tasks."""
    async with page.expect_navigation():
        await page.click('form[action="/login"] button[type="submit"]')
