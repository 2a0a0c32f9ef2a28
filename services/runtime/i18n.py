"""Words and moments every service shows the same way: gettext catalogues read with Babel, a tenant's time
zone by name, and a moment as the signer reads it ("6 december 2026, 01:50" in Dutch, "6 December 2026, 01:50"
in English) — documents stamps it on the PDF and signing writes it in the certificate, so they must agree."""

from __future__ import annotations

from datetime import UTC, datetime, tzinfo
from functools import cache
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from babel.dates import format_datetime
from babel.messages.pofile import read_po

from services.runtime.staff_auth import DEFAULT_TIME_ZONE

LANGUAGES = ("nl", "en")
DEFAULT_ZONE = ZoneInfo(DEFAULT_TIME_ZONE)
MOMENT_PATTERN = "d MMMM y, HH:mm"


def read_catalogue(path: Path, language: str) -> dict[str, str]:
    """A gettext catalogue's texts by message id."""
    with open(path, "rb") as po:
        # Singular messages only (the catalogues have no plural forms, whose id and string are tuples).
        return {
            m.id: m.string
            for m in read_po(po, locale=language)
            if m.id and isinstance(m.id, str) and isinstance(m.string, str)
        }


def language_of(value: str | None, fallback: str = "nl") -> str:
    return value if value is not None and value in LANGUAGES else fallback


@cache
def zone_of(name: str | None, fallback: tzinfo = DEFAULT_ZONE) -> tzinfo:
    """The zone of that name, else `fallback`: tasks checks a tenant's zone when it is set, but this machine's
    tz database may lack one another machine's has."""
    if not name:
        return fallback
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return fallback


def format_moment(at: datetime, language: str | None, zone: str | None) -> str:
    """A moment of a signing in the tenant's zone and the signer's language (Dutch unless English)."""
    if at.tzinfo is None:
        at = at.replace(tzinfo=UTC)
    return format_datetime(at, MOMENT_PATTERN, tzinfo=zone_of(zone), locale=language_of(language))
