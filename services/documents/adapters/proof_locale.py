"""What documents stamps, as the signer reads it: dates in the tenant's time zone and the signer's language
("6 december 2026, 01:50" in Dutch, "6 December 2026, 01:50" in English; the signing service writes its
certificate's dates the same way), and the added signature page's words from gettext catalogues
(locale/<lang>/LC_MESSAGES/stamp.po), both with Babel.
"""

from __future__ import annotations

from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from babel.dates import format_datetime
from babel.messages.pofile import read_po

LANGUAGES = ("nl", "en")
DEFAULT_ZONE = "Europe/Amsterdam"
MOMENT_PATTERN = "d MMMM y, HH:mm"
LOCALE_DIR = Path(__file__).resolve().parent.parent / "locale"


def language_of(value: str | None) -> str:
    return value if value in LANGUAGES else "nl"


@cache
def words(language: str | None) -> dict[str, str]:
    """The signature page's words in `language` (Dutch when it is not one we have)."""
    lang = language_of(language)
    with open(LOCALE_DIR / lang / "LC_MESSAGES" / "stamp.po", "rb") as po:
        # Singular messages only (the catalogues have no plural forms, whose id and string are tuples).
        entries = read_po(po, locale=lang)
        return {m.id: m.string for m in entries if m.id and isinstance(m.id, str) and isinstance(m.string, str)}


def format_moment(at: datetime, language: str | None, zone: str | None) -> str:
    if at.tzinfo is None:
        at = at.replace(tzinfo=UTC)
    try:
        tz = ZoneInfo(zone or DEFAULT_ZONE)
    except (ZoneInfoNotFoundError, ValueError):
        tz = ZoneInfo(DEFAULT_ZONE)
    return format_datetime(at, MOMENT_PATTERN, tzinfo=tz, locale=language_of(language))
