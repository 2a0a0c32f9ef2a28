"""The added signature page's words in the signer's language, from gettext catalogues
(locale/<lang>/LC_MESSAGES/stamp.po). Its dates are `services/runtime/i18n.format_moment`'s, as in signing's
certificate.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

from services.runtime.i18n import language_of, read_catalogue

LOCALE_DIR = Path(__file__).resolve().parent.parent / "locale"


@cache
def words(language: str | None) -> dict[str, str]:
    """The signature page's words in `language` (Dutch when it is not one we have)."""
    lang = language_of(language)
    return read_catalogue(LOCALE_DIR / lang / "LC_MESSAGES" / "stamp.po", lang)
