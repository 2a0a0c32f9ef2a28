"""Templates from other producers have their tags found and stamped, and the result passes `qpdf --check`:
cairo (poppler's pdftocairo: embedded subset fonts, its own text encoding), LibreOffice Writer (symbolic
TrueType subsets with ToUnicode maps; a tag in a table cell, on a landscape page, split over bold and
other-font runs) and pdfium (a CID font, Identity-H)."""

from __future__ import annotations

import ctypes
import io
import shutil
import subprocess
from pathlib import Path

import pypdfium2 as pdfium
import pypdfium2.raw as pdfium_c
import pytest
import reportlab
from pypdf import PdfReader
from reportlab.pdfbase.pdfmetrics import stringWidth

from services.documents.adapters.pdf_brace_filter import candidate_pages
from services.documents.adapters.pdf_inspect import inspect_pdf
from services.documents.adapters.pdf_stamp import Stamp, stamp_pdf
from tests.support.stamping import signature_png, stamp, template


def tool(name: str) -> str:
    path = shutil.which(name)
    assert path, f"{name} is needed by this test: apt-get install qpdf poppler-utils"
    return path


def test_a_cairo_made_template_is_found_and_stamped(tmp_path):
    (tmp_path / "reportlab.pdf").write_bytes(
        template([(72, 400, "Sign: {{signature}}"), (72, 300, "Name {{signer_name}} on {{signed_at}}")])
    )
    subprocess.run(
        [tool("pdftocairo"), "-pdf", tmp_path / "reportlab.pdf", tmp_path / "cairo.pdf"], check=True, timeout=60
    )
    source = (tmp_path / "cairo.pdf").read_bytes()
    tags = inspect_pdf(source, max_pages=5).placeholders
    assert [t.kind for t in tags] == ["signature", "signer_name", "signed_at"]

    stamped = stamp_pdf(source, tags, stamp())
    (tmp_path / "stamped.pdf").write_bytes(stamped.pdf)
    check = subprocess.run(
        [tool("qpdf"), "--check", tmp_path / "stamped.pdf"], capture_output=True, text=True, timeout=60
    )
    assert "No syntax or stream encoding errors found" in check.stdout
    assert "Jan de Vries" in pdfium.PdfDocument(stamped.pdf)[0].get_textpage().get_text_bounded()


# -- LibreOffice (tests/fixtures/make_libreoffice_pdfs.sh makes these from the .fodt sources beside them) --

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "libreoffice"
MARGIN = 2 / 2.54 * 72  # the templates' page margins, 2 cm
SIZE = 10.5  # their body text, in Liberation Sans: Helvetica's metrics
LO_STAMP = Stamp(
    signature_png=signature_png(),
    signer_name="Jan de Vries",
    signed_at="2026-11-30 10:00 UTC",
    fields={"po_number": "PO-77", "hours": "3,75"},
)

# template -> (page, tag, kind, field, the text before the tag on its line, when it starts at the margin)
EXPECTED = {
    "work_order": [
        (2, "{{field:po_number}}", "field", "po_number", "PO-nummer: "),
        (2, "{{signer_name}}", "signer_name", None, "Naam: "),
        (2, "{{signed_at}}", "signed_at", None, "Datum: "),
        (2, "{{signature}}", "signature", None, "Handtekening: "),
    ],
    "table_cell": [
        (1, "{{signer_name}}", "signer_name", None, None),
        (1, "{{signed_at}}", "signed_at", None, None),
        (1, "{{Customer;type=signature;role=Customer}}", "signature", None, None),
    ],
    "landscape": [
        (1, "{{field:hours}}", "field", "hours", "Gewerkte uren: "),
        (1, "{{signature}}", "signature", None, "Gewerkte uren: {{field:hours}} Handtekening klant: "),
    ],
    "split_runs": [
        (1, "{{signature}}", "signature", None, "Handtekening: "),
        (1, "{{signer_name}}", "signer_name", None, "Naam: "),
        (1, "{{signed_at}}", "signed_at", None, "Datum: "),
    ],
}
# text after a tag on its line, which must keep its place when the tag's glyphs go
AFTER_TAGS = {
    "landscape": ["Handtekening klant:"],
    "split_runs": ["(vet in het midden)", "(twee lettertypen)", "Ελληνικά"],
}


def qpdf_check(path: Path) -> str:
    return subprocess.run([tool("qpdf"), "--check", path], capture_output=True, text=True, timeout=60).stdout


def char_boxes(pdf: bytes, page: int, needle: str) -> list[tuple[float, ...]]:
    text_page = pdfium.PdfDocument(pdf)[page].get_textpage()
    start = text_page.get_text_range().index(needle)
    return [tuple(round(v, 1) for v in text_page.get_charbox(start + i)) for i in range(len(needle))]


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_a_libreoffice_template_has_its_tags_found_on_their_page_and_in_their_box(name):
    source = (FIXTURES / f"{name}.pdf").read_bytes()
    assert "No syntax or stream encoding errors found" in qpdf_check(FIXTURES / f"{name}.pdf")
    facts = inspect_pdf(source, max_pages=10)
    assert [(t.page, t.tag, t.kind, t.field) for t in facts.placeholders] == [e[:4] for e in EXPECTED[name]]
    document = pdfium.PdfDocument(source)
    for tag, (_, _, _, _, before) in zip(facts.placeholders, EXPECTED[name], strict=False):
        width, height = document[tag.page - 1].get_size()
        left, bottom, right, top = tag.box
        assert MARGIN - 1 < left < right < width - MARGIN + 1 and MARGIN < bottom < top < height - MARGIN
        # the box spans the braces, about 0.93 em of the text's size, and is as wide as the tag's text
        assert 0.85 * SIZE < top - bottom < 1.2 * 12, tag
        if before is not None:
            # Liberation Sans has Helvetica's metrics: the tag starts where its line's text before it ends
            assert abs(left - (MARGIN + stringWidth(before, "Helvetica", SIZE))) < 2, (tag, before)
    if name in ("table_cell", "landscape"):  # tags side by side in a row share a baseline, left to right
        assert len({t.box[1] for t in facts.placeholders}) == 1
        assert [t.box[0] for t in facts.placeholders] == sorted(t.box[0] for t in facts.placeholders)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_a_libreoffice_template_is_stamped_in_its_tag_boxes_and_the_tags_are_gone(name, tmp_path):
    source = (FIXTURES / f"{name}.pdf").read_bytes()
    tags = inspect_pdf(source, max_pages=10).placeholders
    stamped = stamp_pdf(source, tags, LO_STAMP)
    (tmp_path / "stamped.pdf").write_bytes(stamped.pdf)
    assert "No syntax or stream encoding errors found" in qpdf_check(tmp_path / "stamped.pdf")
    document = pdfium.PdfDocument(stamped.pdf)
    reader = PdfReader(io.BytesIO(stamped.pdf))
    for index in range(len(document)):
        text = document[index].get_textpage().get_text_range()
        assert "{{" not in text and "}}" not in text, text
        assert "{{" not in reader.pages[index].extract_text()
    signed = document[stamped.signed_page - 1]
    signed_text = signed.get_textpage().get_text_range()
    values = {"signer_name": "Jan de Vries", "signed_at": "2026-11-30 10:00 UTC"}
    for tag in tags:
        if tag.kind != "signature":
            assert (values.get(tag.kind) or LO_STAMP.fields[tag.field]) in signed_text
    # each signature image starts at its tag's box, in the signature's 3:1 proportions, with ink in it
    images = [o.get_bounds() for o in signed.get_objects(max_depth=4) if o.type == pdfium_c.FPDF_PAGEOBJ_IMAGE]
    signatures = [t for t in tags if t.kind == "signature"]
    assert len(images) == len(signatures)
    page_height = signed.get_size()[1]
    pixels = signed.render(scale=1).to_pil().convert("L")
    for tag, (left, bottom, right, top) in zip(signatures, sorted(images), strict=False):
        assert abs(left - tag.box[0]) < 1 and abs(bottom - tag.box[1]) < 1
        assert abs((right - left) / (top - bottom) - 3.0) < 0.05
        ink = pixels.crop((int(left), int(page_height - top), int(right), int(page_height - bottom)))
        assert ink.getextrema()[0] < 100
    page = stamped.signed_page - 1
    for needle in AFTER_TAGS.get(name, []):
        assert char_boxes(stamped.pdf, page, needle) == char_boxes(source, page, needle)


def cid_font_template() -> bytes:
    """Three pages whose text is in a CID font (Type0, Identity-H, as pdfium writes it); a tag on page 2."""
    font_data = (Path(reportlab.__file__).parent / "fonts" / "Vera.ttf").read_bytes()
    document = pdfium.PdfDocument.new()
    buffer = (ctypes.c_uint8 * len(font_data)).from_buffer_copy(font_data)
    font = pdfium_c.FPDFText_LoadFont(document.raw, buffer, len(font_data), pdfium_c.FPDF_FONT_TRUETYPE, True)
    for text in ("Cover page, no tags", "Sign here: {{signature}} after it", "Terms, no tags"):
        page = document.new_page(595, 842)
        obj = pdfium_c.FPDFPageObj_CreateTextObj(document.raw, font, 12.0)
        utf16 = (text + "\0").encode("utf-16-le")
        assert pdfium_c.FPDFText_SetText(obj, (ctypes.c_ushort * (len(utf16) // 2)).from_buffer_copy(utf16))
        pdfium_c.FPDFPageObj_Transform(obj, 1, 0, 0, 1, 72, 700)
        pdfium_c.FPDFPage_InsertObject(page.raw, obj)
        assert pdfium_c.FPDFPage_GenerateContent(page.raw)
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def test_a_template_in_a_cid_font_is_prefiltered_found_and_stamped():
    source = cid_font_template()
    (font,) = [f.get_object() for f in PdfReader(io.BytesIO(source)).pages[1]["/Resources"]["/Font"].values()]
    assert (font["/Subtype"], font["/Encoding"]) == ("/Type0", "/Identity-H")
    assert candidate_pages(PdfReader(io.BytesIO(source))) == [1]
    (tag,) = inspect_pdf(source, max_pages=5).placeholders
    assert tag.page == 2 and tag.kind == "signature"
    stamped = stamp_pdf(source, [tag], LO_STAMP).pdf
    assert "{{" not in pdfium.PdfDocument(stamped)[1].get_textpage().get_text_range()
    assert char_boxes(stamped, 1, "after it") == char_boxes(source, 1, "after it")
