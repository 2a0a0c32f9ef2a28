"""Reading a PDF font's codes: how a shown string splits into codes, what text and width each code has.

Enough for the fonts templates use (simple Type1/TrueType fonts, and Type0 fonts with Identity-H, as
LibreOffice, cairo and reportlab write them); any other font reads as None, and callers then leave its
text alone. ToUnicode CMaps are parsed here too (bfchar and bfrange sections).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cached_property, lru_cache

from pypdf._codecs import adobe_glyphs, charset_encoding  # the glyph list and base encodings pypdf reads with
from pypdf.generic import DictionaryObject, NameObject, StreamObject
from reportlab.pdfbase import pdfmetrics

CMapEntry = tuple[int, int, "list[tuple[int, ...]] | tuple[int, ...]"]
_CMAP_SECTION = re.compile(rb"begin(bfchar|bfrange)(.*?)end\1", re.S)
_CMAP_TOKEN = re.compile(rb"<([0-9A-Fa-f\s]*)>|\[|\]")
_NOT_HEX = re.compile(rb"[^0-9A-Fa-f]")
_BASE_ENCODINGS = {"/WinAnsiEncoding", "/MacRomanEncoding", "/StandardEncoding", "/PDFDocEncoding"}
_STANDARD_14 = {
    "Courier",
    "Courier-Bold",
    "Courier-Oblique",
    "Courier-BoldOblique",
    "Helvetica",
    "Helvetica-Bold",
    "Helvetica-Oblique",
    "Helvetica-BoldOblique",
    "Times-Roman",
    "Times-Bold",
    "Times-Italic",
    "Times-BoldItalic",
    "Symbol",
    "ZapfDingbats",
}
MAX_RANGE = 0x10000


class UnreadableCMap(Exception):
    pass


def parse_cmap(data: bytes) -> tuple[CMapEntry, ...]:
    """(low code, high code, targets): a list of UTF-16 unit tuples (one per code), or one tuple whose
    last unit counts up from `low`."""
    return _parse_cmap(data)


@lru_cache(maxsize=256)
def _parse_cmap(data: bytes) -> tuple[CMapEntry, ...]:
    if b"usecmap" in data:
        raise UnreadableCMap("the CMap builds on another")
    entries: list[CMapEntry] = []
    try:
        for kind, body in _CMAP_SECTION.findall(data):
            tokens = [m.group(0) for m in _CMAP_TOKEN.finditer(body)]
            i = 0
            while i < len(tokens):
                if kind == b"bfchar":
                    code = _hex_int(tokens[i])
                    entries.append((code, code, [_utf16(tokens[i + 1])]))
                    i += 2
                elif tokens[i + 2] == b"[":
                    end = tokens.index(b"]", i + 3)
                    entries.append(
                        (_hex_int(tokens[i]), _hex_int(tokens[i + 1]), [_utf16(t) for t in tokens[i + 3 : end]])
                    )
                    i = end + 1
                else:
                    entries.append((_hex_int(tokens[i]), _hex_int(tokens[i + 1]), _utf16(tokens[i + 2])))
                    i += 3
    except (IndexError, ValueError) as exc:
        raise UnreadableCMap(str(exc)) from exc
    if not entries:
        raise UnreadableCMap("no mappings")
    return tuple(entries)


def _hex_int(token: bytes) -> int:
    return int(_NOT_HEX.sub(b"", token) or b"0", 16)


def _utf16(token: bytes) -> tuple[int, ...]:
    digits = _NOT_HEX.sub(b"", token)
    return tuple(int(digits[i : i + 4], 16) for i in range(0, len(digits), 4))


def _text(units: tuple[int, ...]) -> str:
    return bytes(b for u in units for b in u.to_bytes(2, "big")).decode("utf-16-be", "replace")


@dataclass(frozen=True)
class FontCodes:
    """How one font's shown strings read: code length, text and width (1/1000 em) of each code."""

    code_bytes: int
    texts: dict[int, str]
    widths: dict[int, float]
    default_width: float | None
    fallback_text: dict[int, str] | None = None  # a simple font's base encoding, for codes ToUnicode omits
    metrics: pdfmetrics.Font | None = None  # a standard 14 font's AFM widths, by character (reportlab)

    def codes(self, data: bytes) -> list[int] | None:
        if len(data) % self.code_bytes:
            return None
        if self.code_bytes == 1:
            return list(data)
        return [int.from_bytes(data[i : i + 2], "big") for i in range(0, len(data), 2)]

    def encode(self, codes: list[int]) -> bytes:
        return b"".join(code.to_bytes(self.code_bytes, "big") for code in codes)

    def text(self, code: int) -> str:
        if self.code_bytes == 1:
            return self._byte_texts[code]
        text = self.texts.get(code)
        return text if text is not None else "\ufffd"

    def read(self, data: bytes) -> tuple[list[int], str, list[int] | None] | None:
        """A shown string's codes, its text, and which code each character of the text comes from
        (None when every code is one character)."""
        codes = self.codes(data)
        if codes is None:
            return None
        if self.code_bytes == 1 and self._one_char_per_byte:
            return codes, data.decode("latin-1").translate(self._byte_table), None
        texts = [self.text(code) for code in codes]
        text = "".join(texts)
        return codes, text, None if len(text) == len(codes) else [k for k, t in enumerate(texts) for _ in t]

    @cached_property
    def _byte_texts(self) -> list[str]:
        fallback = self.fallback_text or {}
        return [self.texts.get(code, fallback.get(code, "\ufffd")) for code in range(256)]

    @cached_property
    def _byte_table(self) -> dict[int, str]:
        return dict(enumerate(self._byte_texts))

    @cached_property
    def _one_char_per_byte(self) -> bool:
        return all(len(text) == 1 for text in self._byte_texts)

    def width(self, code: int) -> float | None:
        if code in self.widths:
            return self.widths[code]
        if self.metrics is not None:
            char = self.text(code)
            return self.metrics.stringWidth(char, 1000) if len(char) == 1 and char != "\ufffd" else None
        return self.default_width


def font_codes(font) -> FontCodes | None:
    font = font.get_object() if font is not None else None
    if not isinstance(font, DictionaryObject):
        return None
    try:
        if font.get("/Subtype") == "/Type0":
            return _type0(font)
        if font.get("/Subtype") in ("/Type1", "/MMType1", "/TrueType"):
            return _simple(font)
    except (UnreadableCMap, KeyError, ValueError, TypeError, IndexError, AttributeError):
        return None
    return None


def _to_unicode(font) -> dict[int, str] | None:
    stream = font.get("/ToUnicode")
    stream = stream.get_object() if stream is not None else None
    if not isinstance(stream, StreamObject):
        return None
    texts: dict[int, str] = {}
    for low, high, targets in parse_cmap(stream.get_data()):
        if high - low > MAX_RANGE:
            raise UnreadableCMap("a range too large")
        if isinstance(targets, list):
            texts.update((low + i, _text(t)) for i, t in enumerate(targets) if low + i <= high)
        elif targets:
            texts.update((code, _text(targets[:-1] + (targets[-1] + code - low,))) for code in range(low, high + 1))
    return texts


def _type0(font) -> FontCodes | None:
    if font.get("/Encoding") != "/Identity-H":
        return None  # vertical writing or another CMap: not ours to edit
    texts = _to_unicode(font)
    if texts is None:
        return None
    (descendant,) = font["/DescendantFonts"]
    descendant = descendant.get_object()
    widths: dict[int, float] = {}
    w = descendant.get("/W")
    items = list(w.get_object()) if w is not None else []
    i = 0
    while i < len(items):
        first, second = int(items[i]), items[i + 1].get_object()
        if isinstance(second, list):
            widths.update((first + k, float(v)) for k, v in enumerate(second))
            i += 2
        else:
            widths.update((c, float(items[i + 2])) for c in range(first, int(second) + 1))
            i += 3
    return FontCodes(code_bytes=2, texts=texts, widths=widths, default_width=float(descendant.get("/DW", 1000)))


def _simple(font) -> FontCodes | None:
    texts = _to_unicode(font) or {}
    encoding = font.get("/Encoding")
    encoding = encoding.get_object() if encoding is not None else None
    base = encoding.get("/BaseEncoding") if isinstance(encoding, DictionaryObject) else encoding
    base_chars = charset_encoding[str(base) if base in _BASE_ENCODINGS else "/StandardEncoding"]
    fallback = {code: char for code, char in enumerate(base_chars) if char}
    if isinstance(encoding, DictionaryObject):
        code = 0
        for item in encoding.get("/Differences", []):
            if isinstance(item, NameObject):
                fallback[code] = adobe_glyphs.get(item, "\ufffd")
                code += 1
            else:
                code = int(item)
    if base is None and uses_font_program_encoding(font):
        if not texts:
            return None  # the font program's own encoding decides what its codes mean
        fallback = {}  # and what the codes ToUnicode leaves out mean
    return FontCodes(code_bytes=1, texts=texts, fallback_text=fallback, **_simple_widths(font))


def uses_font_program_encoding(font) -> bool:
    """Whether codes without /Encoding read through the font program's own encoding (pdfium does so for
    an embedded font that is symbolic, or not TrueType) rather than the standard one."""
    descriptor = font.get("/FontDescriptor")
    descriptor = descriptor.get_object() if descriptor is not None else None
    if not isinstance(descriptor, DictionaryObject):
        return False
    embedded = any(k in descriptor for k in ("/FontFile", "/FontFile2", "/FontFile3"))
    symbolic = int(descriptor.get("/Flags", 0) or 0) & 4
    return embedded and (bool(symbolic) or font.get("/Subtype") != "/TrueType")


def _simple_widths(font) -> dict:
    if "/Widths" in font:
        first = int(font.get("/FirstChar", 0))
        widths = {first + i: float(w) for i, w in enumerate(font["/Widths"].get_object())}
        descriptor = font.get("/FontDescriptor")
        missing = descriptor.get_object().get("/MissingWidth", 0) if descriptor is not None else 0
        return {"widths": widths, "default_width": float(missing)}
    name = str(font.get("/BaseFont", ""))[1:]
    if name not in _STANDARD_14:
        return {"widths": {}, "default_width": None}
    # the standard 14 fonts' AFM widths ship with reportlab
    return {"widths": {}, "default_width": None, "metrics": pdfmetrics.getFont(name)}
