"""Reading a page's content stream: the strings each show operator draws, with the font and text state
they are drawn in. A regular-expression scan, not a full parser: it keeps to what it can read for
certain and raises UnreadableContent otherwise (an inline image, a literal string with nested
parentheses, an operand it cannot find), so callers can leave such a page alone.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from pypdf.generic import ArrayObject

from services.documents.adapters.pdf_fonts import FontCodes, font_codes

_DELIM = rb"\x00\t\n\x0c\r ()<>\[\]{}/%"
_END = rb"(?![^" + _DELIM + rb"])"  # and ends here
_WS = rb"[\x00\t\n\x0c\r ]"
_NUM = rb"[+-]?(?:\d+\.?\d*|\.\d+)"
_LIT = rb"\((?:[^()\\]++|\\.)*+\)"  # a literal string without unescaped parentheses inside
_HEX = rb"<[0-9A-Fa-f\x00\t\n\x0c\r ]*>"
_STR = rb"(?:" + _LIT + rb"|" + _HEX + rb")"
_NAME = rb"/[^" + _DELIM + rb"]*"
_TOKENS = re.compile(
    rb"(?=[%(<\[/TqQB>])"  # every token below starts with one of these: lets the scan skip the rest fast
    rb"(?:(?P<comment>%[^\r\n]*)"
    rb"|(?P<show>(?P<s>" + _STR + rb")" + _WS + rb"*(?P<sop>Tj|'|\")" + _END + rb")"
    rb"|(?P<tj>\[(?P<arr>(?:[^\[\]()]++|" + _LIT + rb")*+)\]" + _WS + rb"*TJ" + _END + rb")"
    rb"|(?P<tf>(?P<font>" + _NAME + rb")" + _WS + rb"+(?P<size>" + _NUM + rb")" + _WS + rb"+Tf" + _END + rb")"
    rb"|(?P<name>" + _NAME + rb")|(?P<string>" + _STR + rb")|(?P<dict><<|>>)"
    rb"|(?P<op>(?:Tc|Tw|q|Q|BI)" + _END + rb")"
    rb"|(?P<unsure>[(<]))",
    re.S,
)
# the operands of Tc, Tw and '"', read back from where their operator begins
_OPERANDS = {
    1: re.compile(rb"(" + _NUM + rb")" + _WS + rb"*$"),
    2: re.compile(rb"(" + _NUM + rb")" + _WS + rb"+(" + _NUM + rb")" + _WS + rb"*$"),
}
_DELIMS = set(b"\x00\t\n\x0c\r ()<>[]{}/%")
_ARRAY_ITEM = re.compile(_STR + rb"|" + _NUM)
_ESCAPE = re.compile(rb"\\([0-7]{1,3}|\r\n|.)", re.S)
_NOT_HEX = re.compile(rb"[^0-9A-Fa-f]")
_HEX_BODY = re.compile(rb"<([^<>]*)>")
_NAMED = {b"n": b"\n", b"r": b"\r", b"t": b"\t", b"b": b"\b", b"f": b"\f", b"\r\n": b"", b"\r": b"", b"\n": b""}


class UnreadableContent(Exception):
    pass


@dataclass(frozen=True)
class Show:
    start: int
    end: int
    operator: bytes  # Tj, ', " or TJ
    items: list  # bytes (a string's codes) or float (a TJ adjustment)
    extra: bytes  # what a " operator sets before it shows: b"aw Tw ac Tc "
    font_name: str | None  # its resource name, as the Tf operator gave it
    font: FontCodes | None
    size: float
    char_spacing: float
    word_spacing: float


def content_streams(page) -> list[bytes]:
    """The decoded bytes of each of the page's content streams, in drawing order."""
    contents = page.get("/Contents")
    contents = contents.get_object() if contents is not None else None
    parts = contents if isinstance(contents, ArrayObject) else [contents] if contents is not None else []
    return [part.get_object().get_data() for part in parts]


def content_bytes(page) -> bytes | None:
    try:
        parts = content_streams(page)
    except Exception:  # a stream pypdf cannot decode: leave the page as it is
        return None
    return b"\n".join(parts) if parts else None


def page_fonts(page) -> dict:
    resources = page.get("/Resources")
    resources = resources.get_object() if resources is not None else None
    fonts = resources.get("/Font") if resources is not None and hasattr(resources, "get") else None
    fonts = fonts.get_object() if fonts is not None else None
    return fonts if isinstance(fonts, dict) else {}  # a DictionaryObject; anything else names no font


def shows_in(data: bytes, fonts, joined: dict[str, list[bytes]] | None = None) -> list[Show]:
    """Every show operator in `data` (a page's decoded content), in order, with its font and text state.

    With no `fonts`, no font is read. A TJ array in a font named in `joined` (fonts of one-byte codes)
    is not returned but added, as it stands, to that font's list there: enough to ask which codes a
    page shows (joined_codes), and much faster for producers that kern every glyph.
    """
    # The text state: the font (its resource name) and size Tf set, the character and word spacing (Tc, Tw).
    font: str | None = None
    size = 0.0
    spacing = {b"Tc": 0.0, b"Tw": 0.0}
    stack: list[tuple[str | None, float, dict[bytes, float]]] = []
    readers: dict[str | None, FontCodes | None] = {}
    found: list[Show] = []
    for m in _TOKENS.finditer(data):
        kind = m.lastgroup
        if kind == "unsure":
            raise UnreadableContent
        if kind == "op":
            operator = m.group("op")
            if m.start() and data[m.start() - 1] not in _DELIMS:
                continue  # the end of some other word
            if operator == b"BI":
                raise UnreadableContent  # inline image data could hold anything
            if operator == b"q":
                stack.append((font, size, dict(spacing)))
            elif operator == b"Q":
                if stack:
                    font, size, spacing = stack.pop()
            else:
                spacing[operator] = float(_operands(data, m.start(), 1).group(1))
        elif kind == "tf":
            font, size = m.group("font").decode("latin-1"), float(m.group("size"))
        elif kind in ("show", "tj"):
            start, extra = m.start(), b""
            operator = b"TJ" if kind == "tj" else m.group("sop")
            if operator == b'"':  # aw ac string ": sets word and character spacing, then shows
                operands = _operands(data, start, 2)
                aw, ac = operands.groups()
                spacing[b"Tw"], spacing[b"Tc"] = float(aw), float(ac)
                start, extra = operands.start(), aw + b" Tw " + ac + b" Tc "
            if kind == "tj" and joined is not None and font is not None and font in joined:
                joined[font].append(m.group("arr"))
                continue
            if kind == "tj":
                items = [_string(t) if t[:1] in b"(<" else float(t) for t in _ARRAY_ITEM.findall(m.group("arr"))]
            else:
                items = [_string(m.group("s"))]
            if font not in readers:
                readers[font] = font_codes(fonts.get(font)) if font and fonts is not None else None
            found.append(
                Show(
                    start,
                    m.end(),
                    operator,
                    items,
                    extra,
                    font,
                    readers[font],
                    size,
                    spacing[b"Tc"],
                    spacing[b"Tw"],
                )
            )
    return found


def joined_codes(arrays: list[bytes]) -> bytes:
    """Every byte the strings of these TJ arrays show, in one string."""
    array = b" ".join(arrays)
    if b"(" not in array:
        try:
            # fromhex takes spaces between bytes only: a string with an odd digit or anything but hex
            # digits and spaces fails it, and is read one by one below
            return bytes.fromhex(b" ".join(_HEX_BODY.findall(array)).decode("latin-1"))
        except ValueError:
            pass
    return b"".join(_string(t) for t in _ARRAY_ITEM.findall(array) if t[:1] in b"(<")


def _operands(data: bytes, end: int, count: int) -> re.Match:
    found = _OPERANDS[count].search(data, max(0, end - 64), end)
    if found is None:
        raise UnreadableContent
    return found


def _string(token: bytes) -> bytes:
    if token[:1] == b"<":
        digits = _NOT_HEX.sub(b"", token)
        return bytes.fromhex((digits + b"0" if len(digits) % 2 else digits).decode())
    return _ESCAPE.sub(_unescape, token[1:-1])


def _unescape(m: re.Match) -> bytes:
    escaped = m.group(1)
    if escaped[:1].isdigit():
        return bytes([int(escaped, 8) & 0xFF])
    return _NAMED.get(escaped, escaped)
