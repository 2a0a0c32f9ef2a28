"""Guards against hostile PDFs before pdfium touches them: decompression bombs, absurd pages and images.

A 400 KB file can inflate to gigabytes of content stream. We inflate every page's content streams
and form XObjects (annotation appearances too) in bounded chunks (never holding the output), and
refuse the file once the total passes the limit. Image XObjects are decoded only when a page is
rendered, so their declared size is checked instead. A page box costs nothing to write and everything
to render (14400 x 14400 points is 600 MB of bitmap at 72 dpi), so each page's MediaBox and CropBox,
times its UserUnit, is held to a size a printer could still print.
"""

from __future__ import annotations

import zlib

from pypdf import PdfReader
from pypdf.filters import ASCII85Decode, ASCIIHexDecode
from pypdf.generic import ArrayObject, DictionaryObject, StreamObject

from contracts.errors import Invalid

CHUNK = 1024 * 1024
# 100 inches (2.54 m) a side: beyond any paper a work order is printed on (4A0 is 66 inches), half of
# Acrobat's 200-inch maximum. Rotation does not matter: the limit holds for either side.
MAX_PAGE_POINTS = 7200
# An 8000 x 6000 photo is 48 megapixels; decoded, 50 megapixels is 150 MB of RGB.
MAX_IMAGE_PIXELS = 50_000_000
# The bitmap of one page preview; a larger page is rendered at a smaller scale to fit.
MAX_RENDER_BYTES = 40 * 1024 * 1024
MAX_FORM_DEPTH = 12
_ASCII: dict[str, type[ASCII85Decode | ASCIIHexDecode]] = {
    "/ASCII85Decode": ASCII85Decode,
    "/A85": ASCII85Decode,
    "/ASCIIHexDecode": ASCIIHexDecode,
    "/AHx": ASCIIHexDecode,
}


def check_page_boxes(reader: PdfReader, max_points: float = MAX_PAGE_POINTS) -> None:
    """Refuse a page whose MediaBox or CropBox (times its UserUnit) is wider or taller than `max_points`."""
    for number, page in enumerate(reader.pages, start=1):
        unit = _number(page.get("/UserUnit"), 1.0)
        if not 0 < unit < 1e6:
            raise Invalid(f"Page {number} has a UserUnit of {unit}; the PDF is refused.")
        for name, box in (("MediaBox", page.mediabox), ("CropBox", page.cropbox)):
            width, height = abs(float(box.width)) * unit, abs(float(box.height)) * unit
            if width > max_points or height > max_points:
                scaled = f", UserUnit {unit:g}" if unit != 1 else ""
                raise Invalid(
                    f"Page {number} is {width:.0f} x {height:.0f} points ({name}{scaled}); at most "
                    f"{max_points / 72:g} inches ({max_points:g} points) a side is accepted."
                )


def check_inflation(reader: PdfReader, max_inflated_bytes: int, max_image_pixels: int = MAX_IMAGE_PIXELS) -> None:
    budget = _Budget(max_inflated_bytes, max_image_pixels)
    seen: set[int] = set()
    for number, page in enumerate(reader.pages, start=1):
        budget.page = number
        contents = page.get("/Contents")
        contents = contents.get_object() if contents is not None else None
        streams = contents if isinstance(contents, ArrayObject) else [contents] if contents is not None else []
        for stream in streams:
            _inflate(stream.get_object(), budget)
        _resources(page.get("/Resources"), budget, seen, depth=0)
        for appearance in _appearances(page):
            _inflate(appearance, budget)
            _resources(appearance.get("/Resources"), budget, seen, depth=1)


def _appearances(page) -> list[StreamObject]:
    """The appearance streams of a page's annotations: pdfium draws them like page content."""
    found: list[StreamObject] = []
    annots = page.get("/Annots")
    annots = annots.get_object() if annots is not None else None
    for annot in annots if isinstance(annots, ArrayObject) else []:
        annot = annot.get_object()
        ap = annot.get("/AP") if isinstance(annot, DictionaryObject) else None
        ap = ap.get_object() if ap is not None else None
        for state in ap.values() if isinstance(ap, DictionaryObject) else []:
            state = state.get_object()
            streams = (
                [state]
                if isinstance(state, StreamObject)
                else [s.get_object() for s in state.values()]
                if isinstance(state, DictionaryObject)
                else []
            )
            found += [s for s in streams if isinstance(s, StreamObject)]
    return found


def _number(value, default: float) -> float:
    try:
        return float(value.get_object()) if value is not None else default
    except (TypeError, ValueError):
        return default


class _Budget:
    def __init__(self, limit: int, max_image_pixels: int = MAX_IMAGE_PIXELS):
        self.limit = limit
        self.used = 0
        self.max_image_pixels = max_image_pixels
        self.page = 0

    def spend(self, n: int) -> None:
        self.used += n
        if self.used > self.limit:
            raise Invalid(
                f"The PDF expands to more than {self.limit // (1024 * 1024)} MB of page content "
                "(a decompression bomb?); it is refused."
            )


def _resources(resources, budget: _Budget, seen: set[int], depth: int) -> None:
    resources = resources.get_object() if resources is not None else None
    if not isinstance(resources, DictionaryObject) or depth > MAX_FORM_DEPTH:
        return
    xobjects = resources.get("/XObject")
    xobjects = xobjects.get_object() if xobjects is not None else None
    if not isinstance(xobjects, DictionaryObject):
        return
    for ref in xobjects.values():
        key = getattr(ref, "idnum", None)
        if key is not None:
            if key in seen:
                continue
            seen.add(key)
        xobject = ref.get_object()
        if not isinstance(xobject, StreamObject):
            continue
        if xobject.get("/Subtype") == "/Image":
            _check_image(xobject, budget)
            mask = xobject.get("/SMask")  # a soft mask is an image of its own, decoded with its image
            if isinstance(mask := mask.get_object() if mask is not None else None, StreamObject):
                _check_image(mask, budget)
        elif xobject.get("/Subtype") == "/Form":
            _inflate(xobject, budget)
            _resources(xobject.get("/Resources"), budget, seen, depth + 1)


def _check_image(image: StreamObject, budget: _Budget) -> None:
    width, height = int(_number(image.get("/Width"), 0)), int(_number(image.get("/Height"), 0))
    if width * height > budget.max_image_pixels:
        raise Invalid(
            f"An image on page {budget.page} is {width}x{height} pixels; at most "
            f"{budget.max_image_pixels / 1e6:g} megapixels are accepted."
        )


def _inflate(stream, budget: _Budget) -> None:
    if not isinstance(stream, StreamObject):
        return
    filters = stream.get("/Filter")
    filters = filters.get_object() if filters is not None else None
    filters = [str(f) for f in filters] if isinstance(filters, ArrayObject) else [str(filters)] if filters else []
    data = stream._data  # the encoded bytes, as stored in the file
    try:
        # ASCII layers (reportlab puts ASCII85 before Flate) only shrink the data: undo them whole
        while filters and filters[0] in _ASCII:
            data = _ASCII[filters.pop(0)].decode(data)
    except Exception:
        budget.spend(len(data))
        return
    layers = 0
    while layers < len(filters) and filters[layers] in ("/FlateDecode", "/Fl"):
        layers += 1  # a Flate stream inside a Flate stream inflates twice: follow every layer
    if not layers:
        budget.spend(len(data))
        return
    chunks = iter([data])
    for _ in range(layers):
        chunks = _inflated(chunks)
    try:
        for chunk in chunks:
            budget.spend(len(chunk))
    except zlib.error:
        pass  # a damaged stream inflates to less, not more; pdfium copes with it or refuses the file


def _inflated(chunks):
    """Inflate a stream given in chunks, a chunk of at most CHUNK bytes at a time, never all of it."""
    inflater = zlib.decompressobj()
    for data in chunks:
        while data and not inflater.eof:
            out = inflater.decompress(data, CHUNK)
            if out:
                yield out
            data = inflater.unconsumed_tail
    if not inflater.eof:
        yield inflater.flush()
