"""The signer's language and the tenant's time zone on the proof: gettext catalogues read with Babel
(locale/<lang>/LC_MESSAGES/certificate.po) and moments written as a reader of that language writes them."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from babel.dates import format_datetime
from babel.messages.pofile import read_po

LANGUAGES = ("nl", "en")
LOCALE_DIR = Path(__file__).resolve().parent.parent / "locale"
DEFAULT_ZONE = "Europe/Amsterdam"
# "6 december 2026, 01:50" / "6 December 2026, 01:50"
MOMENT_PATTERN = "d MMMM y, HH:mm"


def language_of(value: str | None) -> str:
    return value if value in LANGUAGES else "nl"


@cache
def _catalogue(language: str) -> dict[str, str]:
    with open(LOCALE_DIR / language / "LC_MESSAGES" / "certificate.po", "rb") as po:
        # Singular messages only (the catalogues have no plural forms, whose id and string are tuples).
        entries = read_po(po, locale=language)
        return {m.id: m.string for m in entries if m.id and isinstance(m.id, str) and isinstance(m.string, str)}


def translator(language: str | None) -> Callable[..., str]:
    texts = _catalogue(language_of(language))

    def t(key: str, **values: str) -> str:
        return texts.get(key, key).format(**values)

    return t


def zone_of(name: str | None) -> ZoneInfo:
    try:
        return ZoneInfo(name or DEFAULT_ZONE)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo(DEFAULT_ZONE)


def format_moment(at: datetime, language: str | None, zone: str | None) -> str:
    if at.tzinfo is None:
        at = at.replace(tzinfo=UTC)
    return format_datetime(at, MOMENT_PATTERN, tzinfo=zone_of(zone), locale=language_of(language))
