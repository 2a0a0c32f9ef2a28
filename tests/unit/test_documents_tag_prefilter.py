"""Only pages that can show a "{" get a pdfium text page; the pre-filter never hides a tag, whatever
spelling the content stream uses for it."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from pypdf import PdfReader, PdfWriter
from pypdf.generic import ArrayObject, DictionaryObject, NameObject, NumberObject, StreamObject
from reportlab.lib.pagesizes import A4
from reportlab.pdfgen import canvas

from services.documents.adapters.pdf_brace_filter import candidate_pages
from services.documents.adapters.pdf_inspect import inspect_pdf


def pages_of(data: bytes) -> list[int] | None:
    return candidate_pages(PdfReader(io.BytesIO(data)))


def raw_pdf(
    *contents: bytes, encoding: DictionaryObject | NameObject | None = None, first_filter: str | None = None
) -> bytes:
    """One page per content stream, all drawing with Helvetica as /F1 (optionally re-encoded)."""
    writer = PdfWriter()
    font = DictionaryObject(
        {
            NameObject("/Type"): NameObject("/Font"),
            NameObject("/Subtype"): NameObject("/Type1"),
            NameObject("/BaseFont"): NameObject("/Helvetica"),
        }
    )
    if encoding is not None:
        font[NameObject("/Encoding")] = encoding
    font_ref = writer._add_object(font)
    for index, content in enumerate(contents):
        page = writer.add_blank_page(595, 842)
        stream = StreamObject()
        stream.set_data(content)
        if index == 0 and first_filter:
            stream[NameObject("/Filter")] = NameObject(first_filter)
        page[NameObject("/Contents")] = writer._add_object(stream)
        page[NameObject("/Resources")] = DictionaryObject(
            {NameObject("/Font"): DictionaryObject({NameObject("/F1"): font_ref})}
        )
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def shown(text: bytes) -> bytes:
    return b"BT /F1 12 Tf 72 700 Td " + text + b" ET"


def test_only_the_pages_that_can_show_a_brace_are_searched():
    buf = io.BytesIO()
    c = canvas.Canvas(buf, pagesize=A4)
    for text in ("Intro, no tags", "Sign: {{signature}}", "Terms and conditions"):
        c.drawString(72, 700, text)
        c.showPage()
    c.save()
    assert pages_of(buf.getvalue()) == [1]
    assert [p.page for p in inspect_pdf(buf.getvalue(), max_pages=5).placeholders] == [2]


@pytest.mark.parametrize(
    "spelling",
    [
        b"(\\173\\173signature}}) Tj",  # octal escapes
        b"(\\573\\573signature}}) Tj",  # pdfium wraps an octal escape past \377 around (0o573 & 0xFF is "{")
        b"<7B 7b7369676E61747572657D7D> Tj",  # hex, with whitespace and either case
        b"[({) -20 ({signa) 10 (ture}}) ] TJ",  # split over the strings of a TJ array
        b"({) Tj ({signature}}) Tj",  # split over two show operators
        b"(\\{\\\n{signature}}) Tj",  # an escaped brace and a line continuation
    ],
)
def test_a_tag_in_any_string_spelling_is_kept(spelling):
    data = raw_pdf(shown(b"(nothing here) Tj"), shown(spelling))
    assert pages_of(data) == [1]
    (tag,) = inspect_pdf(data, max_pages=5).placeholders
    assert tag.page == 2 and tag.kind == "signature"


def test_a_brace_given_another_code_by_differences_is_kept():
    # code 0x41 ("A") is re-encoded as braceleft: the bytes hold no 0x7B, the page still shows "{{"
    differences = DictionaryObject(
        {
            NameObject("/Type"): NameObject("/Encoding"),
            NameObject("/BaseEncoding"): NameObject("/WinAnsiEncoding"),
            NameObject("/Differences"): ArrayObject([NumberObject(65), NameObject("/braceleft")]),
        }
    )
    data = raw_pdf(shown(b"(plain) Tj"), shown(b"(AAsignature}}) Tj"), encoding=differences)
    assert pages_of(data) == [1]
    (tag,) = inspect_pdf(data, max_pages=5).placeholders
    assert tag.page == 2 and tag.tag == "{{signature}}"


def test_a_font_we_cannot_read_for_certain_makes_its_page_a_candidate():
    data = raw_pdf(shown(b"(plain) Tj"), encoding=NameObject("/SomeCustomEncoding"))
    assert pages_of(data) == [0]


def test_a_tag_inside_a_form_xobject_is_kept():
    buf = io.BytesIO()
    c = canvas.Canvas(buf, pagesize=A4)
    c.drawString(72, 700, "cover page")
    c.showPage()
    c.beginForm("footer")
    c.drawString(72, 72, "Signed: {{signature}}")
    c.endForm()
    c.doForm("footer")
    c.showPage()
    c.save()
    assert pages_of(buf.getvalue()) == [1]
    (tag,) = inspect_pdf(buf.getvalue(), max_pages=5).placeholders
    assert tag.page == 2


def test_a_stream_we_cannot_decode_makes_the_search_fall_back_to_every_page():
    data = raw_pdf(shown(b"(plain) Tj"), shown(b"({{signature}}) Tj"), first_filter="/NoSuchDecode")
    assert pages_of(data) is None
    assert [p.page for p in inspect_pdf(data, max_pages=5).placeholders] == [2]


def symbolic_truetype_pdf(to_unicode: bytes, *contents: bytes) -> bytes:
    """Pages drawn in an embedded symbolic TrueType subset without /Encoding, as LibreOffice writes them:
    codes its ToUnicode map leaves out read through the font program's own encoding."""
    writer = PdfWriter()
    cmap, program = StreamObject(), StreamObject()
    cmap.set_data(b"begincmap\n1 begincodespacerange <00> <FF> endcodespacerange\n" + to_unicode + b"\nendcmap")
    program.set_data(b"not read by the pre-filter")
    descriptor = DictionaryObject(
        {
            NameObject("/Type"): NameObject("/FontDescriptor"),
            NameObject("/Flags"): NumberObject(4),
            NameObject("/FontFile2"): writer._add_object(program),
        }
    )
    font = writer._add_object(
        DictionaryObject(
            {
                NameObject("/Type"): NameObject("/Font"),
                NameObject("/Subtype"): NameObject("/TrueType"),
                NameObject("/BaseFont"): NameObject("/BAAAAA+LiberationSans"),
                NameObject("/FontDescriptor"): writer._add_object(descriptor),
                NameObject("/ToUnicode"): writer._add_object(cmap),
            }
        )
    )
    for content in contents:
        page = writer.add_blank_page(595, 842)
        stream = StreamObject()
        stream.set_data(content)
        page[NameObject("/Contents")] = writer._add_object(stream)
        page[NameObject("/Resources")] = DictionaryObject(
            {NameObject("/Font"): DictionaryObject({NameObject("/F1"): font})}
        )
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def test_a_font_with_its_own_encoding_is_read_string_by_string():
    to_unicode = b"3 beginbfchar <01> <0061> <02> <0062> <03> <007B> endbfchar"
    data = symbolic_truetype_pdf(
        to_unicode,
        b"BT /F1 12 Tf 72 700 Td <0102> Tj [<02> 120 <01>] TJ ET",  # only mapped codes, none of them "{"
        b"BT /F1 12 Tf 72 700 Td <0103> Tj ET",  # code 03 is "{"
        b"BT /F1 12 Tf 72 700 Td <0104> Tj ET",  # code 04 is not in the map: it could be anything
        b"BT 72 700 Td <01> Tj ET",  # no font selected yet: pdfium would use a stock font
        b"BT /F1 12 Tf 72 700 Td [<0102> -5 <01\n02>] TJ ET",  # whitespace between bytes: still only a, b
        b"BT /F1 12 Tf 72 700 Td [<0102> -5 <0 3>] TJ ET",  # a space between the digits of code 03
        b"BT /F1 12 Tf 72 700 Td [<0102> -5 <0>] TJ ET",  # an odd digit is padded: code 00, not in the map
        b"/Span <</ActualText (\\173)>> BDC BT /F1 12 Tf 72 700 Td <01> Tj ET EMC",  # text given instead
    )
    assert pages_of(data) == [1, 2, 3, 5, 6, 7]


def test_only_the_signature_page_of_the_libreoffice_work_order_is_searched():
    fixture = Path(__file__).resolve().parents[1] / "fixtures" / "libreoffice" / "work_order.pdf"
    assert pages_of(fixture.read_bytes()) == [1]
