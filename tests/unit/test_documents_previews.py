"""Page previews: our own PNG writer gives exactly pdfium's pixels, in colour, at the page's size."""

from __future__ import annotations

import io

import pypdfium2 as pdfium
import pytest
from PIL import Image, ImageChops
from reportlab.lib.pagesizes import A4, landscape, letter
from reportlab.pdfgen import canvas

from contracts.errors import NotFound
from services.documents.adapters.pdf_render import encode_png, render_page_png


def coloured(pagesize) -> bytes:
    buf = io.BytesIO()
    c = canvas.Canvas(buf, pagesize=pagesize)
    c.setFillColorRGB(0.1, 0.2, 0.8)
    c.rect(50, 50, 200, 100, stroke=0, fill=1)
    c.setFillColorRGB(0, 0, 0)
    c.drawString(72, 300, "Work order 17: {{signature}}")
    c.showPage()
    c.drawString(72, 300, "page two")
    c.showPage()
    c.save()
    return buf.getvalue()


@pytest.mark.parametrize("pagesize", [A4, landscape(letter)])
def test_a_preview_decodes_to_the_pixels_pdfium_renders(pagesize):
    source = coloured(pagesize)
    preview = Image.open(io.BytesIO(render_page_png(source, 1)))
    expected = pdfium.PdfDocument(source)[0].render(scale=1, may_draw_forms=True).to_pil().convert("RGB")
    assert preview.format == "PNG" and preview.mode == "RGB" and preview.size == expected.size
    assert ImageChops.difference(preview.convert("RGB"), expected).getbbox() is None
    # the blue box is blue, not grey: the colours are kept in their order
    r, g, b = preview.getpixel((150, int(pagesize[1]) - 100))
    assert b > 150 and r < 60


def test_rows_with_padding_at_their_end_are_written_without_it():
    pixels = bytes([255, 0, 0, 0, 255, 0, 9, 9]) + bytes([0, 0, 255, 10, 20, 30, 9, 9])  # 2x2, stride 8
    image = Image.open(io.BytesIO(encode_png(pixels, 2, 2, 8)))
    assert [image.getpixel((x, y)) for y in range(2) for x in range(2)] == [
        (255, 0, 0),
        (0, 255, 0),
        (0, 0, 255),
        (10, 20, 30),
    ]


def test_a_page_past_the_end_is_not_found():
    with pytest.raises(NotFound, match="has 2"):
        render_page_png(coloured(A4), 3)
