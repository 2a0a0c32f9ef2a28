"""The signer's language and the tenant's time zone on the proof: gettext catalogues read with Babel
(locale/<lang>/LC_MESSAGES/certificate.po) and moments written as a reader of that language writes them."""

from __future__ import annotations

from collections.abc import Callable
from functools import cache
from pathlib import Path

from services.runtime.i18n import language_of, read_catalogue

LOCALE_DIR = Path(__file__).resolve().parent.parent / "locale"


@cache
def _catalogue(language: str) -> dict[str, str]:
    return read_catalogue(LOCALE_DIR / language / "LC_MESSAGES" / "certificate.po", language)


def translator(language: str | None) -> Callable[..., str]:
    texts = _catalogue(language_of(language))

    def t(key: str, **values: str) -> str:
        return texts.get(key, key).format(**values)

    return t
