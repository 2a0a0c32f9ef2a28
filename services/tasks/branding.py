"""A tenant's branding rules (pure): a colour white text stays readable on, a small PNG or JPEG logo."""

from __future__ import annotations

import re

from contracts.errors import Invalid

COLOUR = re.compile(r"^#[0-9a-fA-F]{6}$")
MAX_LOGO_BYTES = 256 * 1024
LOGO_TYPES = {b"\x89PNG\r\n\x1a\n": "image/png", b"\xff\xd8\xff": "image/jpeg"}


def _luminance(colour: str) -> float:
    def channel(value: int) -> float:
        c = value / 255
        return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = (int(colour[i : i + 2], 16) for i in (1, 3, 5))
    return 0.2126 * channel(r) + 0.7152 * channel(g) + 0.0722 * channel(b)


def contrast_with_white(colour: str) -> float:
    return 1.05 / (_luminance(colour) + 0.05)


def require_colour(colour: str) -> str:
    """The portal and mails put white text on the tenant's colour: it must keep WCAG AA's 4.5:1."""
    if not COLOUR.match(colour):
        raise Invalid("a colour is written #rrggbb", errors=[{"field": "colour", "message": "not a colour"}])
    if contrast_with_white(colour) < 4.5:
        raise Invalid(
            f"{colour} is too light for white text (contrast {contrast_with_white(colour):.1f}:1, "
            "at least 4.5:1 is needed)",
            errors=[{"field": "colour", "message": "too light"}],
        )
    return colour.lower()


def logo_type(data: bytes) -> str:
    if len(data) > MAX_LOGO_BYTES:
        raise Invalid(
            f"a logo is at most {MAX_LOGO_BYTES // 1024} KB", errors=[{"field": "logo", "message": "too large"}]
        )
    for magic, media_type in LOGO_TYPES.items():
        if data.startswith(magic):
            return media_type
    raise Invalid("a logo is a PNG or JPEG image", errors=[{"field": "logo", "message": "not an image"}])
