"""Stamping a signing onto a PDF: a reportlab overlay drawn over the tagged pages (pdf_overlay).

Each tag's text is taken out of the page (pdf_redact) and its box covered white, then the signature
image (kept in proportion), the signer's name, the date or a field value is drawn there, upright even
on rotated pages. A PDF with no tags gets a signature page appended instead. Synchronous and
CPU-bound: run it in a thread.
"""

from __future__ import annotations

import io
from collections import defaultdict
from dataclasses import dataclass, field

from pypdf import PdfReader, PdfWriter
from reportlab.lib.pagesizes import A4
from reportlab.lib.utils import ImageReader
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfgen import canvas

from contracts.messages import Placeholder
from services.documents.adapters.pdf_overlay import draw_over
from services.documents.adapters.pdf_redact import remove_tag_text
from services.documents.adapters.proof_locale import words

# A signature drawn only as tall as the tag's text would be unreadable: give it at least this much room.
MIN_SIGNATURE_HEIGHT = 36.0
MIN_TEXT_SIZE, MAX_TEXT_SIZE = 6.0, 14.0
BRACE_HEIGHT_EM = 0.93
FONT = "Helvetica"


@dataclass(frozen=True)
class Stamp:
    signature_png: bytes
    signer_name: str
    signed_at: str
    fields: dict[str, str] = field(default_factory=dict)
    source_digest: str = ""
    title: str = ""
    language: str = "nl"  # the signer's: the words of an added signature page


@dataclass(frozen=True)
class Stamped:
    pdf: bytes
    signed_page: int  # 1-based: the page a timeline shows as "the signed page"
    pages: int


def stamp_pdf(source: bytes, placeholders: list[Placeholder], stamp: Stamp) -> Stamped:
    reader = PdfReader(io.BytesIO(source))
    if reader.is_encrypted:
        reader.decrypt("")  # only PDFs with an empty user password were accepted on upload
    writer = PdfWriter(clone_from=reader)
    by_page: dict[int, list[Placeholder]] = defaultdict(list)
    for placeholder in placeholders:
        by_page[placeholder.page].append(placeholder)
    if not by_page:
        _append_signature_page(writer, stamp)
        signed_page = len(writer.pages)
    else:
        tagged = [(writer.pages[number - 1], tags) for number, tags in sorted(by_page.items())]
        # one overlay document, a page per tagged page: the signature image is embedded once
        overlays = PdfReader(io.BytesIO(_overlays(tagged, stamp))).pages
        for (page, tags), overlay in zip(tagged, overlays, strict=False):
            remove_tag_text(page, writer, [tag.tag for tag in tags])
            draw_over(page, writer, overlay)
        signature_pages = sorted({p.page for p in placeholders if p.kind == "signature"})
        signed_page = (signature_pages or sorted(by_page))[0]
    out = io.BytesIO()
    writer.write(out)
    return Stamped(pdf=out.getvalue(), signed_page=signed_page, pages=len(writer.pages))


def _overlays(tagged: list, stamp: Stamp) -> bytes:
    buf = io.BytesIO()
    c = canvas.Canvas(buf)
    image = ImageReader(io.BytesIO(stamp.signature_png))
    for page, tags in tagged:
        box = page.mediabox
        c.setPageSize((float(box.right), float(box.top)))
        _overlay(c, (page.get("/Rotate", 0) or 0) % 360, tags, image, stamp)
        c.showPage()
    c.save()
    return buf.getvalue()


def _overlay(c: canvas.Canvas, rotation: int, tags: list[Placeholder], image: ImageReader, stamp: Stamp) -> None:
    for tag in tags:
        left, bottom, right, top = tag.box
        c.setFillColorRGB(1, 1, 1)
        c.rect(left - 1, bottom - 1, right - left + 2, top - bottom + 2, stroke=0, fill=1)
        c.saveState()
        width, height = _upright(c, tag.box, rotation)
        c.setFillColorRGB(0, 0, 0)
        if tag.kind == "signature":
            _draw_signature(c, image, width, height)
        else:
            _draw_text(c, _text_for(tag, stamp), width, height)
        c.restoreState()


def _upright(c: canvas.Canvas, box: tuple[float, float, float, float], rotation: int) -> tuple[float, float]:
    """Move the origin to the box's corner that is bottom-left on screen; return the box's on-screen size."""
    left, bottom, right, top = box
    if rotation == 90:
        c.translate(right, bottom)
        c.rotate(90)
        return top - bottom, right - left
    if rotation == 180:
        c.translate(right, top)
        c.rotate(180)
        return right - left, top - bottom
    if rotation == 270:
        c.translate(left, top)
        c.rotate(270)
        return top - bottom, right - left
    c.translate(left, bottom)
    return right - left, top - bottom


def _draw_signature(c: canvas.Canvas, image: ImageReader, width: float, height: float) -> None:
    room_h = max(height, MIN_SIGNATURE_HEIGHT)
    room_w = max(width, room_h * 2.5)
    img_w, img_h = image.getSize()
    scale = min(room_w / img_w, room_h / img_h)
    c.drawImage(image, 0, 0, img_w * scale, img_h * scale, mask="auto")


def _draw_text(c: canvas.Canvas, text: str, width: float, height: float) -> None:
    # The tag's box reaches from the bottom to the top of its braces, about 0.93 em in common fonts: the
    # value is written in the tag's own size, made smaller (to 6 pt at least) if it is wider than the tag.
    size = max(MIN_TEXT_SIZE, min(MAX_TEXT_SIZE, height / BRACE_HEIGHT_EM))
    natural = pdfmetrics.stringWidth(text, FONT, size)
    if natural > width > 0:
        size = max(MIN_TEXT_SIZE, size * width / natural)
    c.setFont(FONT, size)
    # the braces reach about 0.2 em below the baseline
    c.drawString(0, max(0.0, (height - size * BRACE_HEIGHT_EM) / 2) + size * 0.2, text)


def _text_for(tag: Placeholder, stamp: Stamp) -> str:
    if tag.kind == "signer_name":
        return stamp.signer_name
    if tag.kind == "signed_at":
        return stamp.signed_at
    return stamp.fields.get(tag.field or "", "")


def _append_signature_page(writer: PdfWriter, stamp: Stamp) -> None:
    buf = io.BytesIO()
    c = canvas.Canvas(buf, pagesize=A4)
    width, height = A4
    t = words(stamp.language)
    c.setFont(FONT + "-Bold", 16)
    c.drawString(72, height - 90, t["signature"])
    c.setFont(FONT, 10)
    y = height - 120
    if stamp.title:
        c.drawString(72, y, f"{t['document']}: {stamp.title}")
        y -= 16
    image = ImageReader(io.BytesIO(stamp.signature_png))
    img_w, img_h = image.getSize()
    scale = min(240 / img_w, 90 / img_h)
    c.drawImage(image, 72, y - 100, img_w * scale, img_h * scale, mask="auto")
    c.line(72, y - 104, 312, y - 104)
    y -= 124
    for label, value in (
        (t["signed_by"], stamp.signer_name),
        (t["signed_at"], stamp.signed_at),
        *((name, value) for name, value in stamp.fields.items()),
    ):
        c.drawString(72, y, f"{label}: {value}")
        y -= 16
    if stamp.source_digest:
        c.setFont(FONT, 8)
        c.drawString(72, y - 8, f"{t['signed_digest']}: {stamp.source_digest}")
    c.showPage()
    c.save()
    writer.append(PdfReader(io.BytesIO(buf.getvalue())))
