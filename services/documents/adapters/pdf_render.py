"""Page previews: a PNG of one page at 1x (72 dpi), rendered by pdfium. Synchronous, CPU-bound.

The PNG is written here rather than by Pillow: Pillow picks a filter per row adaptively, which cost
about 6 ms of a 10 ms preview. A page is mostly flat colour, so rows unfiltered and deflated at level 3
come out smaller than Pillow's and in a third of the time. Rows go to the compressor straight from
pdfium's bitmap, one at a time, so the only whole copy of the page is the compressed PNG; and a page
whose bitmap would pass `max_bitmap_bytes` is drawn at a smaller scale instead.
"""

from __future__ import annotations

import math
import struct
import zlib
from collections.abc import Iterator

import pypdfium2 as pdfium

from contracts.errors import NotFound
from services.documents.adapters.pdf_limits import MAX_RENDER_BYTES
from services.documents.adapters.pdfium_guard import PDFIUM

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
DEFLATE_LEVEL = 3
CHANNELS = 3


def render_page_png(
    data: bytes, page_number: int, scale: float = 1.0, max_bitmap_bytes: int = MAX_RENDER_BYTES
) -> bytes:
    """Render page `page_number` (1-based) of the PDF in `data` as PNG bytes."""
    with PDFIUM:
        document = pdfium.PdfDocument(data)
        try:
            if not 1 <= page_number <= len(document):
                raise NotFound(f"The document has no page {page_number}; it has {len(document)}.")
            page = document[page_number - 1]
            try:
                width_pt, height_pt = page.get_size()
                # opaque white background, RGB byte order: exactly the rows a colour PNG holds
                bitmap = page.render(
                    scale=fitting_scale(width_pt, height_pt, scale, max_bitmap_bytes),
                    may_draw_forms=True,
                    rev_byteorder=True,
                )
                try:
                    if bitmap.n_channels != CHANNELS:
                        raise RuntimeError(f"pdfium rendered {bitmap.n_channels} channels where RGB was asked for")
                    # encoded under the lock, from pdfium's own memory: no copy of the bitmap is made
                    return encode_png(memoryview(bitmap.buffer).cast("B"), bitmap.width, bitmap.height, bitmap.stride)
                finally:
                    bitmap.close()
            finally:
                page.close()
        finally:
            document.close()


def fitting_scale(width_pt: float, height_pt: float, scale: float, max_bitmap_bytes: int) -> float:
    """`scale`, or less if the page's RGB bitmap at `scale` (rows padded to 4 bytes) would pass the budget."""

    def size(s: float) -> int:
        width, height = math.ceil(abs(width_pt) * s), math.ceil(abs(height_pt) * s)
        return (width * CHANNELS + 3) // 4 * 4 * height

    if size(scale) <= max_bitmap_bytes:
        return scale
    fitted = scale * math.sqrt(max_bitmap_bytes / size(scale)) * 0.99
    while fitted > 0 and size(fitted) > max_bitmap_bytes:  # rounding up a pixel may tip it over
        fitted *= 0.99
    return fitted


def encode_png(pixels: bytes | memoryview, width: int, height: int, stride: int) -> bytes:
    """An 8-bit RGB PNG of `pixels` (rows `stride` bytes apart), every row unfiltered."""
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    body = b"".join(_deflated_rows(memoryview(pixels), width * CHANNELS, height, stride))
    return PNG_SIGNATURE + _chunk(b"IHDR", header) + _chunk(b"IDAT", body) + _chunk(b"IEND", b"")


def _deflated_rows(pixels: memoryview, row: int, height: int, stride: int) -> Iterator[bytes]:
    compressor = zlib.compressobj(DEFLATE_LEVEL)
    unfiltered = b"\x00"
    for y in range(height):
        yield compressor.compress(unfiltered)
        yield compressor.compress(pixels[y * stride : y * stride + row])
    yield compressor.flush()


def _chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))
