"""A stamp (signature image, name, date) and a template with placeholders, for tests of stamping."""

from __future__ import annotations

import io

from PIL import Image, ImageDraw
from reportlab.lib.pagesizes import A4

from services.documents.adapters.pdf_stamp import Stamp
from tests.support.pdfs import pdf_with

STAMP = Stamp(
    signature_png=b"",
    signer_name="Jan de Vries",
    signed_at="2026-11-30 10:00 UTC",
    fields={"po_number": "PO-77"},
    source_digest="ab" * 32,
    title="Work order",
)


def signature_png() -> bytes:
    image = Image.new("RGBA", (300, 100), (255, 255, 255, 0))
    ImageDraw.Draw(image).line([(10, 80), (150, 20), (290, 60)], fill=(0, 0, 0, 255), width=5)
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


def stamp() -> Stamp:
    return Stamp(**{**STAMP.__dict__, "signature_png": signature_png()})


def template(lines, pagesize=A4, pages: int = 1) -> bytes:
    return pdf_with([list(lines)] * pages, pagesize)
