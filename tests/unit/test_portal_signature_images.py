"""Signature images: blank ones are refused, JPEG becomes PNG, a typed name becomes ink."""

from __future__ import annotations

import io

import pytest
from PIL import Image, ImageDraw

from contracts.errors import Invalid
from services.portal.adapters.images import normalise_signature, render_typed_signature


def encoded(image: Image.Image, fmt: str = "PNG") -> bytes:
    out = io.BytesIO()
    image.save(out, format=fmt)
    return out.getvalue()


@pytest.mark.parametrize(
    "blank",
    [
        Image.new("RGBA", (300, 100), (0, 0, 0, 0)),  # fully transparent
        Image.new("RGBA", (300, 100), (255, 255, 255, 255)),  # white paper
        Image.new("RGB", (300, 100), (252, 252, 252)),  # near-white
    ],
)
def test_a_blank_signature_is_refused(blank):
    with pytest.raises(Invalid, match="empty"):
        normalise_signature(encoded(blank))


def test_a_drawn_signature_is_kept_as_is():
    image = Image.new("RGBA", (300, 100), (0, 0, 0, 0))
    ImageDraw.Draw(image).line((10, 80, 290, 20), fill=(0, 0, 0, 255), width=3)
    raw = encoded(image)
    assert normalise_signature(raw) == raw


def test_a_jpeg_signature_is_stored_as_png():
    image = Image.new("RGB", (300, 100), (255, 255, 255))
    ImageDraw.Draw(image).line((10, 80, 290, 20), fill=(0, 0, 0), width=3)
    assert normalise_signature(encoded(image, "JPEG")).startswith(b"\x89PNG")


def test_a_truncated_image_is_refused():
    with pytest.raises(Invalid):
        normalise_signature(b"\x89PNG\r\n\x1a\n" + b"\x00" * 30)


def test_a_typed_name_renders_to_a_non_blank_png():
    png = render_typed_signature("Jan de Vries")
    assert png.startswith(b"\x89PNG")
    assert normalise_signature(png) == png


def test_an_empty_typed_name_is_refused():
    with pytest.raises(Invalid):
        render_typed_signature("   ")
