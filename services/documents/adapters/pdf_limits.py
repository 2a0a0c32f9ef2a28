"""Guards against hostile PDFs before pdfium touches them: decompression bombs and absurd images.

A 400 KB file can inflate to gigabytes of content stream. We inflate every page's content streams
and form XObjects in bounded chunks (never holding the output), and refuse the file once the total
passes the limit. Image XObjects are decoded only when a page is rendered, so their declared size
is checked instead.
"""

from __future__ import annotations

import zlib

from pypdf import PdfReader
from pypdf.filters import ASCII85Decode, ASCIIHexDecode
from pypdf.generic import ArrayObject, DictionaryObject, StreamObject

from contracts.errors import Invalid

CHUNK = 1024 * 1024
MAX_IMAGE_PIXELS = 200_000_000
MAX_FORM_DEPTH = 12
_ASCII = {"/ASCII85Decode": ASCII85Decode, "/A85": ASCII85Decode, "/ASCIIHexDecode": ASCIIHexDecode,
          "/AHx": ASCIIHexDecode}


def check_inflation(reader: PdfReader, max_inflated_bytes: int) -> None:
    budget = _Budget(max_inflated_bytes)
    seen: set[int] = set()
    for page in reader.pages:
        contents = page.get("/Contents")
        contents = contents.get_object() if contents is not None else None
        streams = contents if isinstance(contents, ArrayObject) else [contents] if contents is not None else []
        for stream in streams:
            _inflate(stream.get_object(), budget)
        _resources(page.get("/Resources"), budget, seen, depth=0)


class _Budget:
    def __init__(self, limit: int):
        self.limit = limit
        self.used = 0

    def spend(self, n: int) -> None:
        self.used += n
        if self.used > self.limit:
            raise Invalid(f"The PDF expands to more than {self.limit // (1024 * 1024)} MB of page content "
                          "(a decompression bomb?); it is refused.")


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
            width, height = int(xobject.get("/Width", 0) or 0), int(xobject.get("/Height", 0) or 0)
            if width * height > MAX_IMAGE_PIXELS:
                raise Invalid(f"The PDF holds an image of {width}x{height} pixels; it is refused.")
        elif xobject.get("/Subtype") == "/Form":
            _inflate(xobject, budget)
            _resources(xobject.get("/Resources"), budget, seen, depth + 1)


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
