"""Opening an uploaded PDF safely, and finding its placeholder tags with pdfium's text search.

Synchronous and CPU-bound: callers run these through `asyncio.to_thread`.
"""

from __future__ import annotations

import io
import logging
from dataclasses import dataclass

import pypdfium2 as pdfium
import pypdfium2.raw as pdfium_c
from pypdf import PdfReader
from pypdf.errors import PdfReadError

from contracts.errors import Invalid
from contracts.messages import Placeholder
from services.documents.adapters.pdf_brace_filter import candidate_pages
from services.documents.adapters.pdf_limits import (
    MAX_IMAGE_PIXELS,
    MAX_PAGE_POINTS,
    check_inflation,
    check_page_boxes,
)
from services.documents.adapters.pdfium_guard import PDFIUM
from services.documents.domain import TAG, PdfFacts, classify_tag

log = logging.getLogger(__name__)
# A tag is short; reading further than this after "{{" means it is not one.
MAX_TAG_CHARS = 240


@dataclass(frozen=True)
class Limits:
    max_pages: int
    max_inflated_bytes: int = 200 * 1024 * 1024
    max_page_points: float = MAX_PAGE_POINTS
    max_image_pixels: int = MAX_IMAGE_PIXELS


def inspect_pdf(
    data: bytes,
    *,
    max_pages: int,
    max_inflated_bytes: int = 200 * 1024 * 1024,
    max_page_points: float = MAX_PAGE_POINTS,
    max_image_pixels: int = MAX_IMAGE_PIXELS,
) -> PdfFacts:
    """Check that `data` is a PDF we can open (and stamp), count pages and find the tags."""
    if b"%PDF-" not in data[:1024]:
        raise Invalid("The file is not a PDF (it does not start with %PDF-).")
    reader = _check_pypdf_opens(data, Limits(max_pages, max_inflated_bytes, max_page_points, max_image_pixels))
    candidates = TagPages.of(reader)  # pypdf only: outside the pdfium lock
    with PDFIUM:
        try:
            document = pdfium.PdfDocument(data)
        except pdfium.PdfiumError as exc:
            raise Invalid(f"The PDF cannot be opened: {exc}. Is it truncated or damaged?") from exc
        try:
            pages = len(document)
            if pages == 0:
                raise Invalid("The PDF has no pages.")
            if pages > max_pages:
                raise Invalid(f"The PDF has {pages} pages; at most {max_pages} are accepted.")
            return PdfFacts(pages=pages, placeholders=find_placeholders(document, candidates))
        except Invalid:
            raise
        except Exception as exc:  # hostile input: a clear 422, never a 500
            raise Invalid(f"The PDF's text cannot be read: {exc}.") from exc
        finally:
            document.close()


def _check_pypdf_opens(data: bytes, limits: Limits) -> PdfReader:
    try:
        reader = PdfReader(io.BytesIO(data), strict=False)
        if reader.is_encrypted and not reader.decrypt(""):
            raise Invalid("The PDF is encrypted with a password. Upload it without a password.")
        if (pages := len(reader.pages)) > limits.max_pages:
            raise Invalid(f"The PDF has {pages} pages; at most {limits.max_pages} are accepted.")
        check_page_boxes(reader, limits.max_page_points)
        check_inflation(reader, limits.max_inflated_bytes, limits.max_image_pixels)
        return reader
    except Invalid:
        raise
    except (PdfReadError, ValueError, KeyError, TypeError, AttributeError, IndexError, RecursionError) as exc:
        raise Invalid(f"The PDF cannot be read: {exc}. Is it truncated or damaged?") from exc
    except Exception as exc:  # pypdf raises many kinds on hostile input; all of them mean "not usable"
        if "crypt" in str(exc).lower():
            raise Invalid("The PDF is encrypted in a way that cannot be opened.") from exc
        raise Invalid(f"The PDF cannot be read: {exc}.") from exc


@dataclass(frozen=True)
class TagPages:
    """The pages worth a pdfium text page, as pypdf's view of the file (pdf_brace_filter) tells."""

    pages: int
    candidates: list[int] | None  # None: every page

    @classmethod
    def of(cls, reader: PdfReader) -> TagPages:
        return cls(len(reader.pages), candidate_pages(reader))

    def indices(self, pages: int) -> range | list[int]:
        # pdfium and pypdf may read a damaged page tree differently: then pdfium's pages all count
        return self.candidates if self.candidates is not None and pages == self.pages else range(pages)


def find_placeholders(document: pdfium.PdfDocument, candidates: TagPages | None = None) -> list[Placeholder]:
    """Every tag in `document`; the caller holds the PDFIUM lock.

    Building pdfium's text page is most of the cost, so with `candidates` only the pages that can show
    a "{" at all are searched.
    """
    indices = candidates.indices(len(document)) if candidates is not None else range(len(document))
    found: list[Placeholder] = []
    for index in indices:
        page = document[index]
        text_page = page.get_textpage()
        try:
            found += _page_placeholders(text_page, index + 1)
        finally:
            text_page.close()
            page.close()
    return found


def _page_placeholders(text_page: pdfium.PdfTextPage, page_number: int) -> list[Placeholder]:
    searcher = text_page.search("{{", match_case=True)
    found: list[Placeholder] = []
    try:
        while (hit := searcher.get_next()) is not None:
            start, _ = hit
            tag = _read_tag(text_page, start)
            if tag is None:
                continue
            text, indices = tag
            match = TAG.fullmatch(text)
            kind = classify_tag(match.group(1)) if match else None
            if kind is None:
                continue
            found.append(
                Placeholder(tag=text, kind=kind[0], field=kind[1], page=page_number, box=_union_box(text_page, indices))
            )
    finally:
        searcher.close()
    return found


def _read_tag(text_page: pdfium.PdfTextPage, start: int) -> tuple[str, list[int]] | None:
    """Characters from `start` up to the closing "}}", skipping what pdfium inserted (line breaks)."""
    raw = text_page.raw
    total = text_page.count_chars()
    chars: list[str] = []
    indices: list[int] = []
    for i in range(start, min(total, start + MAX_TAG_CHARS)):
        char = chr(pdfium_c.FPDFText_GetUnicode(raw, i))
        if pdfium_c.FPDFText_IsGenerated(raw, i) == 1 or char in "\r\n\x02":
            continue  # a tag split across lines or text runs still reads as one tag
        chars.append(char)
        indices.append(i)
        if len(chars) >= 4 and chars[-1] == "}" and chars[-2] == "}":
            return "".join(chars), indices
    return None


def _union_box(text_page: pdfium.PdfTextPage, indices: list[int]) -> tuple[float, float, float, float]:
    boxes = [text_page.get_charbox(i) for i in indices]
    boxes = [b for b in boxes if b[2] > b[0] or b[3] > b[1]] or boxes
    return (
        round(min(b[0] for b in boxes), 2),
        round(min(b[1] for b in boxes), 2),
        round(max(b[2] for b in boxes), 2),
        round(max(b[3] for b in boxes), 2),
    )
