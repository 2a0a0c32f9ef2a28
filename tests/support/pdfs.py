"""PDFs for tests, drawn with reportlab: lines of text, placed where a test wants them."""

from __future__ import annotations

import io

from reportlab.lib.pagesizes import A4
from reportlab.pdfgen import canvas

Line = tuple[float, float, str]  # x, y (PDF points from the bottom left) and the text


def pdf_with(pages: list[list[Line]], pagesize: tuple[float, float] = A4) -> bytes:
    """One page per list, each line drawn where it says."""
    buf = io.BytesIO()
    c = canvas.Canvas(buf, pagesize=pagesize)
    for lines in pages:
        for x, y, text in lines:
            c.drawString(x, y, text)
        c.showPage()
    c.save()
    return buf.getvalue()


def a_pdf(*lines: str, pages: int = 1, numbered: bool = False, pagesize: tuple[float, float] = A4) -> bytes:
    """`lines` down the left margin of every page (and "Page n" under them when `numbered`)."""

    def page(n: int) -> list[Line]:
        texts = (*lines, f"Page {n}") if numbered else lines
        return [(72, 700 - 20 * i, text) for i, text in enumerate(texts)]

    return pdf_with([page(n) for n in range(1, pages + 1)], pagesize)
