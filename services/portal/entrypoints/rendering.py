"""How a page is rendered: the Jinja environment, the reader's language, and the pages every route may answer."""

from __future__ import annotations

from datetime import UTC, tzinfo
from pathlib import Path
from zoneinfo import ZoneInfo

from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, select_autoescape

from services.portal import i18n
from services.portal.domain import Brand, SessionContext
from services.portal.entrypoints.security import csp
from services.portal.entrypoints.sign_form import autocomplete
from services.runtime import i18n as runtime_i18n

templates = Environment(
    loader=FileSystemLoader(Path(__file__).parent.parent / "templates"),
    autoescape=select_autoescape(default=True),
    trim_blocks=True,
    lstrip_blocks=True,
)
templates.globals["display_zone"] = UTC
templates.globals["autocomplete"] = autocomplete


def configure(display_zone: str) -> None:
    """Called once by bootstrap: the zone in which pages show times when the tenant's own zone is not known
    (the contact's locale sets the words)."""
    templates.globals["display_zone"] = ZoneInfo(display_zone)


def zone_of(ctx: SessionContext | None) -> tzinfo:
    """The session's tenant's zone (tasks' tenant events carry it), else the configured display zone."""
    display_zone = templates.globals["display_zone"]  # set above and by configure, always a zone
    if not isinstance(display_zone, tzinfo):
        raise TypeError(f"the display zone is no tzinfo: {display_zone!r}")
    return runtime_i18n.zone_of(ctx.time_zone if ctx else None, display_zone)


def render(
    name: str, language: str, status: int = 200, ctx: SessionContext | None = None, brand: Brand | None = None, **values
) -> HTMLResponse:
    """`brand` (else the session's tenant's) gives the header the tenant's name, logo and colour."""
    lang = i18n.language_of(language)
    zone = zone_of(ctx)
    brand = brand or (ctx.brand if ctx else None)
    html = templates.get_template(name).render(
        t=i18n.messages(lang),
        lang=lang,
        session=ctx,
        csrf_token=ctx.csrf_token if ctx else "",
        brand=brand,
        when=lambda v: i18n.format_datetime(v, lang, zone),
        phase_name=lambda p: i18n.phase_name(p, lang),
        other_lang=lambda text_lang: i18n.lang_attribute(text_lang, lang),
        **values,
    )
    response = HTMLResponse(html, status_code=status)
    if brand:
        response.headers["content-security-policy"] = csp(brand.logo_origin, brand.style)
    return response


def browser_language(request: Request) -> str | None:
    """Without a session: ?lang= (the page's language switch), else the browser's Accept-Language."""
    if request.query_params.get("lang") in i18n.LANGUAGES:
        return request.query_params["lang"]
    for part in request.headers.get("accept-language", "").split(","):
        code = part.split(";")[0].strip().lower()[:2]
        if code in i18n.LANGUAGES:
            return code
    return None


def preferred_language(request: Request) -> str:
    return browser_language(request) or "nl"


def switch_link(request: Request, lang: str) -> str:
    """This page in the other language, for pages without a session (whose language is not stored)."""
    url = request.url.include_query_params(lang="en" if lang == "nl" else "nl")
    return f"{url.path}?{url.query}"


def message(
    language: str, status: int, title_key: str, text_key: str | None = None, ctx: SessionContext | None = None, **values
) -> HTMLResponse:
    """A page that only says something: a title and a sentence from the catalogue."""
    t = i18n.messages(language)
    return render(
        "message.html", language, status, ctx, title=t[title_key], text=t[text_key] if text_key else "", **values
    )


def signed_out(request: Request) -> HTMLResponse:
    lang = preferred_language(request)
    return message(lang, 401, "signed_out_title", "signed_out", switch_to=switch_link(request, lang))


def not_found(ctx: SessionContext) -> HTMLResponse:
    return message(ctx.language, 404, "not_found", ctx=ctx, back=True)


def local_path(target: str) -> str:
    """Only local paths: never redirect somewhere a crafted form chose."""
    return target if target.startswith("/") and not target.startswith("//") else "/"
