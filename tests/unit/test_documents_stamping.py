"""Stamping a signing onto a PDF: at the tags, upright on rotated pages, or on an added page."""

from __future__ import annotations

import io

import pypdfium2 as pdfium
import pypdfium2.raw as pdfium_c
import pytest
from pypdf import PdfReader, PdfWriter
from reportlab.lib.pagesizes import A4, landscape, letter
from reportlab.pdfgen import canvas

from services.documents.adapters.pdf_inspect import inspect_pdf
from services.documents.adapters.pdf_stamp import Stamp, stamp_pdf
from tests.support.stamping import stamp, template


def images_on(page: pdfium.PdfPage) -> list:
    return [o for o in page.get_objects() if o.type == pdfium_c.FPDF_PAGEOBJ_IMAGE]


def text_of(pdf: bytes, page: int = 0) -> str:
    return pdfium.PdfDocument(pdf)[page].get_textpage().get_text_bounded()


def test_signature_name_date_and_fields_land_in_their_boxes():
    source = template(
        [
            (72, 400, "{{signature}}"),
            (72, 300, "Name: {{signer_name}}"),
            (72, 280, "Date: {{signed_at}}"),
            (72, 260, "PO: {{field:po_number}}"),
        ]
    )
    tags = inspect_pdf(source, max_pages=10).placeholders
    stamped = stamp_pdf(source, tags, stamp())
    assert stamped.pages == 1 and stamped.signed_page == 1
    page = pdfium.PdfDocument(stamped.pdf)[0]
    text = page.get_textpage().get_text_bounded()
    assert "Jan de Vries" in text and "2026-11-30 10:00 UTC" in text and "PO-77" in text
    (image,) = images_on(page)
    left, bottom, right, top = image.get_bounds()
    tag_left, tag_bottom, _, _ = next(t.box for t in tags if t.kind == "signature")
    # the image starts at the tag and keeps the signature's 3:1 proportions
    assert abs(left - tag_left) < 1 and abs(bottom - tag_bottom) < 1
    assert abs((right - left) / (top - bottom) - 3.0) < 0.05


def test_the_tag_text_is_covered_by_a_white_box():
    # a field the signer left empty: nothing is drawn over the box, so only the white cover shows
    source = template([(72, 400, "{{field:remarks}}")])
    tags = inspect_pdf(source, max_pages=10).placeholders
    before = pdfium.PdfDocument(source)[0].render(scale=1).to_pil().convert("L")
    after = pdfium.PdfDocument(stamp_pdf(source, tags, stamp()).pdf)[0].render(scale=1).to_pil().convert("L")
    left, bottom, right, top = tags[0].box
    region = (int(left), int(A4[1] - top), int(right) + 1, int(A4[1] - bottom) + 1)
    assert before.crop(region).getextrema()[0] < 128  # the tag's glyphs were there
    assert after.crop(region).getextrema()[0] == 255  # and now it is blank


def test_a_tag_on_several_pages_is_stamped_on_every_one():
    source = template([(100, 100, "{{signature}}")], pagesize=letter, pages=3)
    stamped = stamp_pdf(source, inspect_pdf(source, max_pages=10).placeholders, stamp())
    document = pdfium.PdfDocument(stamped.pdf)
    assert [len(images_on(document[i])) for i in range(3)] == [1, 1, 1]


def test_a_document_without_tags_gets_a_signature_page():
    source = template([(72, 700, "Quote without tags")], pages=2)
    stamped = stamp_pdf(source, [], stamp())
    assert stamped.pages == 3 and stamped.signed_page == 3
    last = text_of(stamped.pdf, 2)
    assert "Jan de Vries" in last and "ab" * 32 in last
    assert len(images_on(pdfium.PdfDocument(stamped.pdf)[2])) == 1


@pytest.mark.parametrize(
    "language, words, not_there",
    [
        (
            "nl",
            [
                "Handtekening",
                "Document: Work order",
                "Ondertekend door: Jan de Vries",
                "Ondertekend op: 6 december",
                "SHA-256 van het ondertekende document",
            ],
            "Signed by",
        ),
        (
            "en",
            ["Signature", "Signed by: Jan de Vries", "Signed at: 6 December", "SHA-256 of the signed document"],
            "Ondertekend",
        ),
    ],
)
def test_the_added_signature_page_is_in_the_signers_language(language, words, not_there):
    at = "6 december 2026, 01:50" if language == "nl" else "6 December 2026, 01:50"
    signed = Stamp(**{**stamp().__dict__, "signed_at": at, "language": language})
    last = text_of(stamp_pdf(template([(72, 700, "Quote without tags")]), [], signed).pdf, 1)
    for expected in words:
        assert expected in last, (expected, last)
    assert not_there not in last


def rotated(degrees: int) -> bytes:
    """A page displayed rotated by `degrees`, whose tag reads upright on screen."""
    buf = io.BytesIO()
    c = canvas.Canvas(buf, pagesize=A4)
    c.saveState()
    c.translate(300, 400)
    c.rotate(degrees)
    c.drawString(0, 0, "Name: {{signer_name}}")
    c.restoreState()
    c.showPage()
    c.save()
    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(buf.getvalue())))
    writer.pages[0].rotate(degrees)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def char_angle(pdf: bytes, needle: str) -> float:
    text_page = pdfium.PdfDocument(pdf)[0].get_textpage()
    index = text_page.get_text_range().index(needle)
    return round(pdfium_c.FPDFText_GetCharAngle(text_page.raw, index), 2)


def test_on_a_rotated_page_the_stamp_reads_upright_like_the_tag():
    for degrees in (90, 180, 270):
        source = rotated(degrees)
        tags = inspect_pdf(source, max_pages=10).placeholders
        stamped = stamp_pdf(source, tags, stamp())
        assert char_angle(stamped.pdf, "Jan") == char_angle(source, "Name"), degrees


def test_non_a4_pages_keep_their_size():
    source = template([(500, 100, "{{signer_name}}")], pagesize=landscape(letter))
    stamped = stamp_pdf(source, inspect_pdf(source, max_pages=10).placeholders, stamp())
    page = PdfReader(io.BytesIO(stamped.pdf)).pages[0]
    assert (float(page.mediabox.width), float(page.mediabox.height)) == landscape(letter)
    assert "Jan de Vries" in text_of(stamped.pdf)


async def test_pdf_work_from_many_threads_at_once_is_safe():
    import asyncio

    from services.documents.adapters.pdf_render import render_page_png

    source = template([(72, 400, "{{signature}}")], pages=3)
    jobs = [asyncio.to_thread(inspect_pdf, source, max_pages=10) for _ in range(6)]
    jobs += [asyncio.to_thread(render_page_png, source, n % 3 + 1) for n in range(6)]
    results = await asyncio.gather(*jobs)
    assert all(r.pages == 3 for r in results[:6]) and all(r.startswith(b"\x89PNG") for r in results[6:])


def test_a_pdf_encrypted_with_an_empty_user_password_is_stamped():
    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(template([(72, 300, "{{signer_name}}")]))))
    writer.encrypt(user_password="", owner_password="owner-secret", algorithm="AES-256")
    out = io.BytesIO()
    writer.write(out)
    source = out.getvalue()
    stamped = stamp_pdf(source, inspect_pdf(source, max_pages=10).placeholders, stamp())
    assert "Jan de Vries" in text_of(stamped.pdf)
