"""A stamped date as the signer reads it: in the tenant's time zone and the signer's language, with Babel.

"6 december 2026, 01:50" in Dutch, "6 December 2026, 01:50" in English (the signing service writes its
certificate's dates the same way).
"""

from __future__ import annotations

from datetime import datetime, timezone
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from babel.dates import format_datetime

LANGUAGES = ("nl", "en")
DEFAULT_ZONE = "Europe/Amsterdam"
MOMENT_PATTERN = "d MMMM y, HH:mm"


def format_moment(at: datetime, language: str | None, zone: str | None) -> str:
    if at.tzinfo is None:
        at = at.replace(tzinfo=timezone.utc)
    try:
        tz = ZoneInfo(zone or DEFAULT_ZONE)
    except (ZoneInfoNotFoundError, ValueError):
        tz = ZoneInfo(DEFAULT_ZONE)
    return format_datetime(at, MOMENT_PATTERN, tzinfo=tz, locale=language if language in LANGUAGES else "nl")
