"""Stamping takes the tag's text out of the page: it no longer extracts, and the text around it stays put."""

from __future__ import annotations

import io

import pypdfium2 as pdfium
import pytest
from pypdf import PdfReader, PdfWriter
from pypdf.generic import DictionaryObject, NameObject, StreamObject
from reportlab.lib.pagesizes import A4
from reportlab.pdfgen import canvas

from services.documents.adapters.pdf_inspect import inspect_pdf
from services.documents.adapters.pdf_stamp import stamp_pdf
from tests.support.stamping import stamp


def page_with(content: bytes) -> bytes:
    """One A4 page showing `content` with Helvetica as /F1 and Helvetica-Bold as /F2."""
    writer = PdfWriter()
    page = writer.add_blank_page(*A4)
    fonts = DictionaryObject()
    for name, base in (("/F1", "/Helvetica"), ("/F2", "/Helvetica-Bold")):
        fonts[NameObject(name)] = writer._add_object(
            DictionaryObject(
                {
                    NameObject("/Type"): NameObject("/Font"),
                    NameObject("/Subtype"): NameObject("/Type1"),
                    NameObject("/BaseFont"): NameObject(base),
                    NameObject("/Encoding"): NameObject("/WinAnsiEncoding"),
                }
            )
        )
    stream = StreamObject()
    stream.set_data(content)
    page[NameObject("/Contents")] = writer._add_object(stream)
    page[NameObject("/Resources")] = DictionaryObject({NameObject("/Font"): fonts})
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def boxes_of(pdf: bytes, needle: str) -> list[tuple[float, ...]]:
    text_page = pdfium.PdfDocument(pdf)[0].get_textpage()
    start = text_page.get_text_range().index(needle)
    return [tuple(round(v, 2) for v in text_page.get_charbox(start + i)) for i in range(len(needle))]


def stamped(source: bytes) -> bytes:
    tags = inspect_pdf(source, max_pages=5).placeholders
    assert tags, "the template has a tag"
    return stamp_pdf(source, tags, stamp()).pdf


@pytest.mark.parametrize(
    "content",
    [
        b"BT /F1 12 Tf 72 700 Td (Sign here: {{signature}} after the tag) Tj ET",
        b"BT /F1 12 Tf 72 700 Td [(Sign here: {{sig) -30 (nature}} af) 20 (ter the tag)] TJ ET",
        b"BT /F1 12 Tf 72 700 Td (Sign here: {{sig) Tj /F2 12 Tf (nature}}) Tj /F1 12 Tf ( after the tag) Tj ET",
        b"BT /F1 12 Tf 2 Tc 5 Tw 72 700 Td (Sign here: {{signature}} after the tag) Tj ET",
        b"BT /F1 12 Tf 14 TL 72 714 Td (Sign here:) Tj (  {{signature}} after the tag) ' ET",
        b'BT /F1 12 Tf 14 TL 72 714 Td (Sign here:) Tj 3 1 (  {{signature}} after the tag) " ET',
        b"BT /F1 12 Tf 72 700 Td <5369676e20686572653a207b7b7369676e61747572657d7d206166746572> Tj ET",
        b"BT /F1 12 Tf 72 700 Td (Sign here: \\173\\173signature}} after\\051) Tj ET",
    ],
)
def test_the_tag_no_longer_extracts_and_the_text_after_it_keeps_its_place(content):
    source = page_with(content)
    result = stamped(source)
    text = pdfium.PdfDocument(result)[0].get_textpage().get_text_range()
    assert "{{" not in text and "signature}}" not in text, text
    assert "signature}}" not in PdfReader(io.BytesIO(result)).pages[0].extract_text()
    assert "Sign here:" in text and "after" in text
    assert boxes_of(result, "after") == boxes_of(source, "after")
    assert boxes_of(result, "Sign here:") == boxes_of(source, "Sign here:")


def test_a_stamped_document_has_no_tags_left_to_find():
    source = page_with(b"BT /F1 12 Tf 72 700 Td ({{signer_name}} on {{signed_at}}, {{field:po_number}}) Tj ET")
    assert inspect_pdf(stamped(source), max_pages=5).placeholders == []


def test_text_that_merely_looks_like_a_tag_stays():
    source = page_with(b"BT /F1 12 Tf 72 700 Td ({{not_a_tag}} and {{signature}}) Tj ET")
    text = pdfium.PdfDocument(stamped(source))[0].get_textpage().get_text_range()
    assert "{{not_a_tag}}" in text and "{{signature}}" not in text


def test_a_tag_we_cannot_edit_stays_in_the_file_under_the_white_cover():
    # drawn inside a form XObject: the page's own stream never shows it, so it is not edited
    buf = io.BytesIO()
    c = canvas.Canvas(buf, pagesize=A4)
    c.beginForm("box")
    c.drawString(72, 700, "{{signature}}")
    c.endForm()
    c.doForm("box")
    c.showPage()
    c.save()
    source = buf.getvalue()
    tags = inspect_pdf(source, max_pages=5).placeholders
    result = stamp_pdf(source, tags, stamp()).pdf
    left, bottom, right, top = tags[0].box
    image = pdfium.PdfDocument(result)[0].render(scale=1).to_pil().convert("L")
    cover = image.crop((int(left) + 1, int(A4[1] - top) + 1, int(right), int(A4[1] - bottom)))
    assert "{{signature}}" in pdfium.PdfDocument(result)[0].get_textpage().get_text_range()
    # the signature is drawn from the tag's bottom-left; above the ink the cover is white
    assert cover.getextrema()[1] == 255


def test_the_page_keeps_its_own_content_streams_and_draws_the_stamp_last():
    source = page_with(
        b"BT /F1 12 Tf 72 700 Td (no tags) Tj ET 1 0 0 1 50 50 cm BT /F1 12 Tf 72 600 Td ({{signer_name}}) Tj ET"
    )
    result = stamped(source)
    page = PdfReader(io.BytesIO(result)).pages[0]
    parts = [part.get_object().get_data() for part in page["/Contents"]]
    assert parts[0] == b"q\n" and b"(no tags) Tj" in parts[1] and parts[-1].strip().startswith(b"Q")
    # the cm the page left behind does not move the stamp: the name is drawn at the tag's box
    (tag,) = inspect_pdf(source, max_pages=5).placeholders
    box = boxes_of(result, "Jan")[0]
    assert abs(box[0] - tag.box[0]) < 2 and tag.box[1] - 2 < box[1] < tag.box[3]
