"""Hostile page geometry: huge page boxes and huge images are refused at upload, and a render stays
inside its memory budget however large the page."""

from __future__ import annotations

import io
import tracemalloc

import pytest
from PIL import Image
from pypdf import PdfWriter
from pypdf.generic import ArrayObject, DictionaryObject, FloatObject, NameObject, NumberObject, StreamObject

from contracts.errors import Invalid
from services.documents.adapters.pdf_inspect import inspect_pdf
from services.documents.adapters.pdf_limits import MAX_PAGE_POINTS, MAX_RENDER_BYTES
from services.documents.adapters.pdf_render import render_page_png
from tests.support.pdfs import pdf_with


def a_page_of(width: float, height: float, pages: int = 1) -> bytes:
    return pdf_with([[(72, 72, "Work order {{signature}}")]] * pages, (width, height))


def rewritten(data: bytes, change) -> bytes:
    from pypdf import PdfReader

    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(data)))
    for page in writer.pages:
        change(page)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def test_a_tiny_pdf_with_a_14400_point_square_page_is_refused_naming_the_limit_and_the_page():
    huge = a_page_of(14400, 14400)
    assert len(huge) < 5_000
    with pytest.raises(Invalid, match=r"[Pp]age 1 .*14400.*at most 100 inches") as refused:
        inspect_pdf(huge, max_pages=10)
    assert str(MAX_PAGE_POINTS) in str(refused.value)


def test_the_page_named_is_the_one_past_the_limit():
    data = a_page_of(595, 842, pages=3)

    seen = [0]

    def widen_third(page):
        seen[0] += 1
        if seen[0] == 3:
            page[NameObject("/MediaBox")] = ArrayObject(
                [FloatObject(0), FloatObject(0), FloatObject(595), FloatObject(20000)]
            )

    with pytest.raises(Invalid, match=r"[Pp]age 3 "):
        inspect_pdf(rewritten(data, widen_third), max_pages=10)


def test_user_unit_multiplies_the_page_size():
    # 612 x 792 user units of 20 points each: a 170 by 220 inch page
    scaled = rewritten(a_page_of(612, 792), lambda page: page.__setitem__(NameObject("/UserUnit"), FloatObject(20)))
    with pytest.raises(Invalid, match="UserUnit"):
        inspect_pdf(scaled, max_pages=10)


def test_a_crop_box_past_the_limit_is_refused_too():
    def crop(page):
        page[NameObject("/CropBox")] = ArrayObject(
            [FloatObject(-9000), FloatObject(0), FloatObject(595), FloatObject(842)]
        )

    with pytest.raises(Invalid, match="CropBox"):
        inspect_pdf(rewritten(a_page_of(595, 842), crop), max_pages=10)


def test_a_rotated_large_but_allowed_page_is_accepted():
    rotated = rewritten(a_page_of(7000, 3000), lambda page: page.__setitem__(NameObject("/Rotate"), NumberObject(90)))
    assert inspect_pdf(rotated, max_pages=10).pages == 1


def an_image_page(width_px: int, height_px: int, mask_px: tuple[int, int] | None = None) -> bytes:
    """A page holding one image XObject that declares its size (the pixels themselves are never there)."""
    writer = PdfWriter()
    page = writer.add_blank_page(595, 842)
    image = StreamObject()
    image._data = b"\x00" * 16
    image.update(
        {
            NameObject("/Type"): NameObject("/XObject"),
            NameObject("/Subtype"): NameObject("/Image"),
            NameObject("/Width"): NumberObject(width_px),
            NameObject("/Height"): NumberObject(height_px),
            NameObject("/ColorSpace"): NameObject("/DeviceRGB"),
            NameObject("/BitsPerComponent"): NumberObject(8),
        }
    )
    if mask_px:
        mask = StreamObject()
        mask._data = b"\x00" * 16
        mask.update(
            {
                NameObject("/Type"): NameObject("/XObject"),
                NameObject("/Subtype"): NameObject("/Image"),
                NameObject("/Width"): NumberObject(mask_px[0]),
                NameObject("/Height"): NumberObject(mask_px[1]),
                NameObject("/ColorSpace"): NameObject("/DeviceGray"),
                NameObject("/BitsPerComponent"): NumberObject(8),
            }
        )
        image[NameObject("/SMask")] = writer._add_object(mask)
    page[NameObject("/Resources")] = DictionaryObject(
        {NameObject("/XObject"): DictionaryObject({NameObject("/Im0"): writer._add_object(image)})}
    )
    contents = StreamObject()
    contents._data = b"q 100 0 0 100 72 72 cm /Im0 Do Q"
    page[NameObject("/Contents")] = writer._add_object(contents)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def test_an_image_past_the_pixel_limit_is_refused_naming_its_page_and_the_limit():
    with pytest.raises(Invalid, match=r"page 1 .*20000x20000 pixels.*at most 50 megapixels"):
        inspect_pdf(an_image_page(20000, 20000), max_pages=10)


def test_a_small_image_with_a_soft_mask_past_the_pixel_limit_is_refused_too():
    with pytest.raises(Invalid, match=r"30000x30000 pixels"):
        inspect_pdf(an_image_page(100, 100, mask_px=(30000, 30000)), max_pages=10)
    assert inspect_pdf(an_image_page(100, 100, mask_px=(100, 100)), max_pages=10).pages == 1


def test_a_render_of_the_largest_allowed_page_stays_under_the_memory_budget():
    largest = a_page_of(MAX_PAGE_POINTS, MAX_PAGE_POINTS)
    inspect_pdf(largest, max_pages=10)  # allowed
    tracemalloc.start()
    try:
        png = render_page_png(largest, 1)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    width, height = Image.open(io.BytesIO(png)).size
    # the bitmap pdfium drew (3 bytes a pixel, rows padded to 4) fits the budget ...
    bitmap = ((width * 3 + 3) // 4 * 4) * height
    assert bitmap <= MAX_RENDER_BYTES
    assert width < MAX_PAGE_POINTS  # ... because it was scaled down to fit
    # ... and no copy of it was made beside it (the bitmap's buffer is Python's, so it counts here once)
    assert peak < bitmap + MAX_RENDER_BYTES // 8, (peak, bitmap)


def test_an_ordinary_page_still_renders_at_its_size():
    png = render_page_png(a_page_of(595, 842), 1)
    assert Image.open(io.BytesIO(png)).size == (595, 842)
