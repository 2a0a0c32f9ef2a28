"""The text of each page of a PDF, so screen-reader users can read what they sign. CPU-bound: use to_thread."""

from __future__ import annotations

import io
import logging

from pypdf import PdfReader

log = logging.getLogger(__name__)


def pages_text(pdf: bytes, max_pages: int = 200) -> list[str]:
    try:
        reader = PdfReader(io.BytesIO(pdf))
        return [(page.extract_text() or "").strip() for page in reader.pages[:max_pages]]
    except Exception as exc:  # a PDF pypdf cannot read still has previews and a download
        log.warning("cannot extract text: %r", exc)
        return []
