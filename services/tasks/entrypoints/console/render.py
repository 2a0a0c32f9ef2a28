"""The console's pages: Jinja2 templates, words from gettext catalogues (nl, en), moments in the tenant's zone."""

from __future__ import annotations

from datetime import UTC, datetime, tzinfo
from functools import cache
from pathlib import Path
from typing import Any

from babel.dates import format_datetime as babel_datetime
from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, select_autoescape

from services.runtime.i18n import DEFAULT_ZONE, LANGUAGES, read_catalogue, zone_of

HERE = Path(__file__).parent
ZONE = DEFAULT_ZONE  # before sign-in, and for a tenant whose zone this machine does not know
DATE_PATTERNS = {"nl": "d MMM y HH:mm", "en": "d MMM y, HH:mm"}
LANGUAGE_COOKIE = "console_lang"

templates = Environment(
    loader=FileSystemLoader(HERE / "templates"),
    autoescape=select_autoescape(default=True),
    trim_blocks=True,
    lstrip_blocks=True,
)


@cache
def catalogue(language: str) -> dict[str, str]:
    return read_catalogue(HERE / "locale" / language / "LC_MESSAGES" / "console.po", language)


def language_of(request: Request, user_language: str | None = None) -> str:
    """The signed-in user's choice; before sign-in ?lang=, the cookie, the browser's languages, else Dutch."""
    if user_language in LANGUAGES:
        return user_language
    for candidate in (request.query_params.get("lang"), request.cookies.get(LANGUAGE_COOKIE)):
        if candidate in LANGUAGES:
            return candidate
    for part in request.headers.get("accept-language", "").split(","):
        code = part.split(";")[0].strip().lower()[:2]
        if code in LANGUAGES:
            return code
    return "nl"


def request_zone(request: Request) -> tzinfo:
    """The signed-in user's tenant's zone (the viewer dependency keeps the user on the request)."""
    return zone_of(getattr(getattr(request.state, "viewer", None), "time_zone", None))


def when(value: datetime | str | None, language: str, in_zone: tzinfo = ZONE) -> str:
    if value is None or value == "":
        return ""
    if isinstance(value, str):
        text = value  # shown as it is when it is no moment
        try:
            value = datetime.fromisoformat(text.replace("Z", "+00:00"))
        except ValueError:
            return text
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    local = value.astimezone(in_zone)
    return f"{babel_datetime(local, DATE_PATTERNS[language], locale=language)} {local.tzname()}"


def render(request: Request, name: str, *, language: str, status: int = 200, **values: Any) -> HTMLResponse:
    t, in_zone = catalogue(language), request_zone(request)
    html = templates.get_template(name).render(
        t=t, lang=language, when=lambda v: when(v, language, in_zone), path=request.url.path, **values
    )
    response = HTMLResponse(html, status_code=status)
    response.headers["Cache-Control"] = "no-store"
    return response
