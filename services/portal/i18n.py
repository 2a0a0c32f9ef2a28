"""The portal's words in Dutch and English, from gettext catalogues (locale/<lang>/LC_MESSAGES/portal.po,
read with Babel), and moments in the contact's locale."""

from __future__ import annotations

from datetime import UTC, datetime, tzinfo
from functools import cache
from pathlib import Path

from babel.dates import format_datetime as babel_datetime
from markupsafe import Markup

from services.runtime.i18n import LANGUAGES, language_of, read_catalogue

LOCALE_DIR = Path(__file__).parent / "locale"
DATE_PATTERNS = {"nl": "d MMMM y HH:mm", "en": "d MMMM y, HH:mm"}


@cache
def catalogue(language: str) -> dict[str, str]:
    return read_catalogue(LOCALE_DIR / language / "LC_MESSAGES" / "portal.po", language)


def messages(language: str) -> dict[str, str]:
    return catalogue(language_of(language))


def phase_name(phase: str, language: str) -> str:
    """A task's phase in the contact's language. Staff name phases themselves; the names every tenant starts with
    (tasks' defaults) are translated here (msgid `phase:<name>`), other names are shown as staff wrote them."""
    return messages(language).get(f"phase:{phase}") or phase


def lang_attribute(text_language: str | None, page_language: str) -> Markup:
    """` lang="en"` for staff's text in a known language other than the page's (WCAG 3.1.2), else nothing."""
    if text_language in LANGUAGES and text_language != page_language:
        return Markup(' lang="{}"').format(text_language)
    return Markup("")


def format_datetime(value: datetime | str | None, language: str, zone: tzinfo = UTC) -> str:
    """A moment in the contact's locale and the portal's display zone: '30 november 2026 15:05 CET'."""
    if value is None:
        return ""
    if isinstance(value, str):
        text = value  # shown as it is when it is no moment
        try:
            value = datetime.fromisoformat(text.replace("Z", "+00:00"))
        except ValueError:
            return text
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    local = value.astimezone(zone)
    lang = language_of(language)
    # The zone's own abbreviation (CET, CEST): Babel's English short zone names are offsets.
    return f"{babel_datetime(local, DATE_PATTERNS[lang], locale=lang)} {local.tzname()}"
