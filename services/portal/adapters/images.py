"""Signature images with Pillow: inspect an uploaded one, render a typed name as one. CPU-bound: call via to_thread."""

from __future__ import annotations

import io
import os
from functools import lru_cache

from PIL import Image, ImageDraw, ImageFont, UnidentifiedImageError

from contracts.errors import Invalid

MAX_SIDE = 4000
# A pixel counts as ink when it is visibly opaque and visibly darker than white paper.
INK_ALPHA = 16
INK_DARKNESS = 240


def _refuse(message: str) -> Invalid:
    return Invalid(message, errors=[{"field": "signature", "message": message}])


def normalise_signature(raw: bytes) -> bytes:
    """Decode and check the image; refuse blank ones. Returns PNG bytes (JPEG is converted)."""
    try:
        with Image.open(io.BytesIO(raw)) as probe:
            width, height = probe.size
            fmt = probe.format
            if fmt not in ("PNG", "JPEG"):
                raise _refuse("The signature must be a PNG or JPEG image.")
            if not (0 < width <= MAX_SIDE and 0 < height <= MAX_SIDE):
                raise _refuse(f"The signature image must be at most {MAX_SIDE} pixels on each side.")
            image = probe.convert("RGBA")
    except (UnidentifiedImageError, OSError, SyntaxError, Image.DecompressionBombError):
        raise _refuse("The signature image could not be read.") from None
    if is_blank(image):
        raise _refuse("The signature is empty: please sign.")
    if fmt == "PNG":
        return raw
    out = io.BytesIO()
    image.save(out, format="PNG", optimize=True)
    return out.getvalue()


def is_blank(image: Image.Image) -> bool:
    rgba = image.convert("RGBA")
    if _extrema(rgba.getchannel("A"))[1] < INK_ALPHA:
        return True
    # Composite on white so transparent pixels count as paper, then look for anything dark enough.
    paper = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
    grey = Image.alpha_composite(paper, rgba).convert("L")
    return _extrema(grey)[0] >= INK_DARKNESS


def _extrema(band: Image.Image) -> tuple[float, float]:
    """A one-band image's lowest and highest value (Pillow gives a pair per band for an image of several)."""
    low, high = band.getextrema()
    if isinstance(low, tuple) or isinstance(high, tuple):
        raise ValueError(f"one band expected, not {band.mode}")
    return low, high


@lru_cache(maxsize=1)
def _handwriting_font_path() -> str | None:
    try:
        import reportlab
    except ImportError:
        return None
    fonts = os.path.join(os.path.dirname(reportlab.__file__), "fonts")
    for name in ("callig15.pfb", "VeraIt.ttf"):
        path = os.path.join(fonts, name)
        if os.path.exists(path):
            return path
    return None


def render_typed_signature(name: str, size: int = 64) -> bytes:
    """The typed name in a calligraphic font, dark blue ink on a transparent background, as PNG."""
    text = " ".join(name.split())[:80]
    if not text:
        raise _refuse("Please type your name to sign.")
    path = _handwriting_font_path()
    font = ImageFont.truetype(path, size) if path else ImageFont.load_default(size=size)
    left, top, right, bottom = ImageDraw.Draw(Image.new("RGBA", (1, 1))).textbbox((0, 0), text, font=font)
    pad = size // 3
    # Pillow types a text box in floats; a FreeType font's is in whole pixels.
    image = Image.new("RGBA", (int(right - left) + 2 * pad, int(bottom - top) + 2 * pad), (255, 255, 255, 0))
    ImageDraw.Draw(image).text((pad - left, pad - top), text, font=font, fill=(18, 32, 96, 255))
    out = io.BytesIO()
    image.save(out, format="PNG", optimize=True)
    return out.getvalue()
