"""Which pages could hold a tag at all: a cheap, sound pre-filter before pdfium builds text pages.

pdfium's text page costs about 0.7 ms for a text-heavy page, most of a 50-page search. A page can hold a
tag only if it can show a "{". Which byte codes show "{" depends on the font (a CID font's codes are
glyph numbers, read through its ToUnicode map), so per font we work out every code that could: the ones
its ToUnicode map or /Differences give "{", plus code 0x7B itself (pdfium falls back to the code when a
font maps it to nothing). A page whose content streams (and form XObjects) show none of those codes, in
any string spelling (raw, escaped, octal, hex), cannot show "{" and is not searched.

A font whose codes outside its ToUnicode map read through the font program's own encoding (LibreOffice's
symbolic TrueType subsets) could show "{" for any such code, so its pages are read string by string in
the font each string is shown in (pdf_content), and every code must be one the map gives. Whatever we
cannot read for certain — an unknown encoding or CMap, an inline image, a stream we cannot decode or
tokenize — makes the page a candidate, so the search stays pdfium's.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from pypdf import PdfReader
from pypdf.generic import DictionaryObject, NameObject, StreamObject

from services.documents.adapters.pdf_content import UnreadableContent, content_streams, joined_codes, shows_in
from services.documents.adapters.pdf_fonts import UnreadableCMap, parse_cmap, uses_font_program_encoding

BRACE = 0x7B
_KNOWN_ENCODINGS = {
    "/WinAnsiEncoding",
    "/MacRomanEncoding",
    "/StandardEncoding",
    "/PDFDocEncoding",
    "/MacExpertEncoding",
}
_SIMPLE = {"/Type1", "/MMType1", "/TrueType", "/Type3"}
_CID_ORDERINGS_WITH_TABLES = {"GB1", "CNS1", "Japan1", "Korea1"}
# A ToUnicode range that puts "{" on more codes than this is not worth filtering on.
MAX_CODES = 64
MAX_FORM_DEPTH = 12
_HEX_STRING = re.compile(rb"<([^<>]*)>")
_NOT_HEX = re.compile(rb"[^0-9A-Fa-f]")
_INLINE_IMAGE = re.compile(rb"(?:^|\s)ID[\s\x00]")


class _Unknown(Exception):
    """Something on the page we cannot read for certain: search it."""


@dataclass(frozen=True)
class _Braces:
    """The codes that may show "{" in one font."""

    code_bytes: int
    codes: frozenset[int]
    # For a font whose codes ToUnicode leaves out read through its font program's own encoding: the
    # codes it maps. Any other code might be a "{", so such a font is read string by string.
    mapped: frozenset[int] | None = None


def candidate_pages(reader: PdfReader) -> list[int] | None:
    """0-based indices of the pages that may show "{"; None when every page must be searched."""
    fonts: dict[int, _Braces | None] = {}
    pages = []
    try:
        for index, page in enumerate(reader.pages):
            if _may_show_brace(page, fonts):
                pages.append(index)
    except Exception:  # a damaged or hostile file: let pdfium's search decide, page by page
        return None
    return pages


def _may_show_brace(page, fonts: dict) -> bool:
    streams: list[bytes] = []
    by_name: dict[str, _Braces] = {}
    try:
        _collect(page, page.get("/Resources"), streams, by_name, fonts, set(), 0)
    except _Unknown:
        return True
    if any(braces.mapped is not None for braces in by_name.values()):
        return len(streams) != 1 or _shows_brace(streams[0], page, by_name)
    singles = {BRACE}.union(*(b.codes for b in by_name.values() if b.code_bytes == 1))
    doubles = {code.to_bytes(2, "big") for b in by_name.values() if b.code_bytes == 2 for code in b.codes}
    pattern = _literal_pattern(frozenset(singles), frozenset(doubles))
    # Every spelling of a code in a literal string begins with its first byte or a backslash.
    firsts = [bytes([b]) for b in singles | {code[0] for code in doubles}]
    for data in streams:
        if b"ID" in data and _INLINE_IMAGE.search(data):
            return True
        # a literal string needs a "(", a hex string a "<": without them there is nothing to look for
        if b"(" in data and (b"\\" in data or any(first in data for first in firsts)) and pattern.search(data):
            return True
        hex_bytes = _hex_strings(data) if b"<" in data else b""
        if not singles.isdisjoint(hex_bytes) or any(code in hex_bytes for code in doubles):
            return True
    return False


def _shows_brace(data: bytes, page, by_name: dict[str, _Braces]) -> bool:
    """String by string (TJ arrays font by font), in the font each is shown in: could any show a "{"?"""
    if b"ActualText" in data:
        return True  # marked content whose text pdfium reads instead of the glyphs'
    arrays: dict[str, list[bytes]] = {name: [] for name, braces in by_name.items() if braces.code_bytes == 1}
    try:
        shows = shows_in(data, None, joined=arrays)
    except UnreadableContent:
        return True
    shown = [(show.font_name, item) for show in shows for item in show.items if not isinstance(item, float)]
    shown += [(name, joined_codes(found)) for name, found in arrays.items() if found]
    for name, item in shown:
        braces = by_name.get(name) if name else None
        if braces is None:
            return True  # before any Tf, or a font the page does not define: pdfium uses a stock font
        if braces.code_bytes == 2:
            if len(item) % 2:
                return True
            codes = {int.from_bytes(item[i : i + 2], "big") for i in range(0, len(item), 2)}
        else:
            codes = set(item)
        if not braces.codes.isdisjoint(codes) or (braces.mapped is not None and not codes <= braces.mapped):
            return True
    return False


def _collect(holder, resources, streams, by_name, fonts, seen: set[int], depth: int) -> None:
    if depth > MAX_FORM_DEPTH:
        raise _Unknown
    streams.extend(content_streams(holder) if depth == 0 else [holder.get_data()])
    resources = resources.get_object() if resources is not None else None
    if not isinstance(resources, DictionaryObject):
        return
    font_dict = resources.get("/Font")
    font_dict = font_dict.get_object() if font_dict is not None else None
    for name, ref in font_dict.items() if isinstance(font_dict, DictionaryObject) else ():
        key = getattr(ref, "idnum", None) or id(ref)
        if key not in fonts:
            fonts[key] = _brace_codes(ref.get_object())
        if fonts[key] is None:
            raise _Unknown
        # a form's fonts may reuse the page's names: they count for the byte scan of every stream
        by_name[str(name) if depth == 0 else f"{name} in form {depth}:{key}"] = fonts[key]
    for ref in _values(resources.get("/Properties")):
        properties = ref.get_object()
        if isinstance(properties, DictionaryObject) and "{" in str(properties.get("/ActualText", "")):
            raise _Unknown
    for ref in _values(resources.get("/XObject")):
        key = getattr(ref, "idnum", None)  # None for a direct object, met only where it stands
        if key is not None:
            if key in seen:
                continue
            seen.add(key)
        xobject = ref.get_object()
        if isinstance(xobject, StreamObject) and xobject.get("/Subtype") == "/Form":
            # a form without resources of its own draws with its page's fonts, which are collected already
            _collect(xobject, xobject.get("/Resources"), streams, by_name, fonts, seen, depth + 1)


def _values(dictionary) -> list:
    dictionary = dictionary.get_object() if dictionary is not None else None
    return list(dictionary.values()) if isinstance(dictionary, DictionaryObject) else []


def _brace_codes(font) -> _Braces | None:
    """The codes that may show "{" in `font`, or None if that cannot be known."""
    if not isinstance(font, DictionaryObject):
        return None
    try:
        to_unicode = _to_unicode_braces(font.get("/ToUnicode"))
        if font.get("/Subtype") == "/Type0":
            return _cid_codes(font, to_unicode)
        if font.get("/Subtype") in _SIMPLE:
            return _simple_codes(font, to_unicode)
    except Exception:  # _Unknown, or a font dictionary too broken to read
        return None
    return None


def _cid_codes(font, to_unicode: set[int] | None) -> _Braces:
    if font.get("/Encoding") not in ("/Identity-H", "/Identity-V") or to_unicode is None:
        raise _Unknown  # another CMap, or glyph numbers with no map to Unicode
    (descendant,) = font["/DescendantFonts"]
    info = descendant.get_object().get("/CIDSystemInfo")
    ordering = str(info.get_object().get("/Ordering", "")) if info is not None else ""
    if ordering in _CID_ORDERINGS_WITH_TABLES:
        raise _Unknown  # pdfium reads unmapped codes through that collection's Unicode table
    return _Braces(2, frozenset(code for code in to_unicode | {BRACE} if code <= 0xFFFF))


def _simple_codes(font, to_unicode: set[int] | None) -> _Braces:
    codes = {BRACE} | {code for code in (to_unicode or ()) if code <= 0xFF}
    encoding = font.get("/Encoding")
    encoding = encoding.get_object() if encoding is not None else None
    base = encoding.get("/BaseEncoding") if isinstance(encoding, DictionaryObject) else encoding
    if base is not None and base not in _KNOWN_ENCODINGS:
        raise _Unknown
    mapped = None
    if base is None and font.get("/Subtype") != "/Type3" and uses_font_program_encoding(font):
        if to_unicode is None:
            raise _Unknown
        mapped = frozenset(_to_unicode_codes(font.get("/ToUnicode")))
    if isinstance(encoding, DictionaryObject):
        code = 0
        for item in encoding.get("/Differences", []):
            if isinstance(item, NameObject):
                if "brace" in item.lower() or "007b" in item.lower():
                    codes.add(code)
                code += 1
            else:
                code = int(item)
    return _Braces(1, frozenset(codes), mapped)


def _to_unicode_braces(stream) -> set[int] | None:
    """Codes the ToUnicode CMap maps to text containing "{"; None when there is no map to read."""
    entries = _cmap_entries(stream)
    if entries is None:
        return None
    codes: set[int] = set()
    for low, high, targets in entries:
        if isinstance(targets, list):
            codes |= {low + i for i, target in enumerate(targets) if BRACE in target}
        elif BRACE in targets[:-1]:
            if high - low > MAX_CODES:
                raise _Unknown
            codes |= set(range(low, high + 1))
        elif targets and targets[-1] <= BRACE <= targets[-1] + (high - low):
            codes.add(low + BRACE - targets[-1])
    return codes


def _to_unicode_codes(stream) -> set[int]:
    return {code for low, high, _ in _cmap_entries(stream) or () for code in range(low, min(high, 0xFF) + 1)}


def _cmap_entries(stream):
    stream = stream.get_object() if stream is not None else None
    if stream is None:
        return None
    if not isinstance(stream, StreamObject):
        raise _Unknown  # a named CMap in place of a stream
    try:
        return parse_cmap(stream.get_data())
    except UnreadableCMap as exc:
        raise _Unknown from exc


def _hex_strings(data: bytes) -> bytes:
    parts = []
    for body in _HEX_STRING.findall(data):
        digits = _NOT_HEX.sub(b"", body)
        parts.append(bytes.fromhex(((digits + b"0") if len(digits) % 2 else digits).decode()))
    return b"".join(parts)


@lru_cache(maxsize=64)
def _literal_pattern(singles: frozenset[int], doubles: frozenset[bytes]) -> re.Pattern:
    """Every way a literal string can spell one of these codes, searched over the raw stream."""
    continuation = rb"(?:\\(?:\r\n|\r|\n))*"
    spellings = [_byte_spellings(b) for b in sorted(singles)]
    spellings += [continuation.join(_byte_spellings(b) for b in code) for code in sorted(doubles)]
    return re.compile(b"|".join(spellings))


def _byte_spellings(b: int) -> bytes:
    raw = bytes([b])
    forms = [re.escape(raw)]
    for value in (b, b + 256):  # an octal escape over \377 wraps around in pdfium's parser
        digits = f"{value:o}".encode()
        forms += [rb"\\" + b"0" * pad + digits for pad in range(4 - len(digits))] if len(digits) <= 3 else []
    named = {0x0A: rb"\\n|\r\n|\r", 0x0D: rb"\\r", 0x09: rb"\\t", 0x08: rb"\\b", 0x0C: rb"\\f"}
    if b in named:
        forms.append(named[b])
    elif raw not in b"0123456789\r\n":
        forms.append(rb"\\" + re.escape(raw))
    return b"(?:" + b"|".join(forms) + b")"
