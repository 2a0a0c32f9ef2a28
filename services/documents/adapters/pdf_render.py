"""Page previews: a PNG of one page at 1x (72 dpi), rendered by pdfium. Synchronous, CPU-bound."""

from __future__ import annotations

import io

import pypdfium2 as pdfium

from contracts.errors import NotFound
from services.documents.adapters.pdfium_guard import PDFIUM


def render_page_png(data: bytes, page_number: int, scale: float = 1.0) -> bytes:
    """Render page `page_number` (1-based) of the PDF in `data` as PNG bytes."""
    with PDFIUM:
        document = pdfium.PdfDocument(data)
        try:
            if not 1 <= page_number <= len(document):
                raise NotFound(f"The document has no page {page_number}; it has {len(document)}.")
            page = document[page_number - 1]
            try:
                bitmap = page.render(scale=scale, may_draw_forms=True)
                image = bitmap.to_pil().copy()  # own the pixels, so the bitmap is freed under the lock
                bitmap.close()
            finally:
                page.close()
        finally:
            document.close()
    # PNG encoding is the slower half and needs no pdfium: outside the lock.
    out = io.BytesIO()
    image.save(out, format="PNG", compress_level=3)
    return out.getvalue()
