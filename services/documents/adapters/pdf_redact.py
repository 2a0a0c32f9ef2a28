"""Taking a tag's text out of a page's content stream, so the signed PDF no longer reads "{{signature}}".

The tag's glyphs are removed from the strings that show them, and a TJ adjustment of the same width
takes their place, so text after the tag on the same line keeps its position. Tags are found in the
stream's own order (a tag split over runs, fonts or operators is one tag there too), and only the
ones pdfium found on the page are removed. Only the show operators that held a tag are rewritten; the
rest of the stream keeps its bytes. Text in form XObjects, in a font we cannot read (pdf_fonts), or
in a stream we cannot tokenize for certain (inline images, nested parentheses) is left alone: its
glyphs stay under the stamp's white cover.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections import Counter
from dataclasses import dataclass

from pypdf.generic import ArrayObject, IndirectObject, NameObject, StreamObject

from services.documents.adapters.pdf_fonts import FontCodes, font_codes
from services.documents.domain import TAG, classify_tag

_DELIM = rb"\x00\t\n\x0c\r ()<>\[\]{}/%"
_END = rb"(?![^" + _DELIM + rb"])"  # and ends here
_WS = rb"[\x00\t\n\x0c\r ]"
_NUM = rb"[+-]?(?:\d+\.?\d*|\.\d+)"
_LIT = rb"\((?:[^()\\]|\\.)*\)"  # a literal string without unescaped parentheses inside
_HEX = rb"<[0-9A-Fa-f\x00\t\n\x0c\r ]*>"
_STR = rb"(?:" + _LIT + rb"|" + _HEX + rb")"
_NAME = rb"/[^" + _DELIM + rb"]*"
_TOKENS = re.compile(
    rb"(?=[%(<\[/TqQB>])"  # every token below starts with one of these: lets the scan skip the rest fast
    rb"(?:(?P<comment>%[^\r\n]*)"
    rb"|(?P<show>(?P<s>" + _STR + rb")" + _WS + rb"*(?P<sop>Tj|'|\")" + _END + rb")"
    rb"|(?P<tj>\[(?P<arr>(?:" + _WS + rb"|" + _STR + rb"|" + _NUM + rb")*)\]" + _WS + rb"*TJ" + _END + rb")"
    rb"|(?P<tf>(?P<font>" + _NAME + rb")" + _WS + rb"+(?P<size>" + _NUM + rb")" + _WS + rb"+Tf" + _END + rb")"
    rb"|(?P<name>" + _NAME + rb")|(?P<string>" + _STR + rb")|(?P<dict><<|>>)"
    rb"|(?P<op>(?:Tc|Tw|q|Q|BI)" + _END + rb")"
    rb"|(?P<unsure>[(<]))",
    re.S)
# the operands of Tc, Tw and '"', read back from where their operator begins
_OPERANDS = {1: re.compile(rb"(" + _NUM + rb")" + _WS + rb"*$"),
             2: re.compile(rb"(" + _NUM + rb")" + _WS + rb"+(" + _NUM + rb")" + _WS + rb"*$")}
_DELIMS = set(b"\x00\t\n\x0c\r ()<>[]{}/%")
_ARRAY_ITEM = re.compile(_STR + rb"|" + _NUM)
_ESCAPE = re.compile(rb"\\([0-7]{1,3}|\r\n|.)", re.S)
_NOT_HEX = re.compile(rb"[^0-9A-Fa-f]")
_NAMED = {b"n": b"\n", b"r": b"\r", b"t": b"\t", b"b": b"\b", b"f": b"\f", b"\r\n": b"", b"\r": b"", b"\n": b""}


class _Unsure(Exception):
    pass


@dataclass(frozen=True)
class _Show:
    start: int
    end: int
    operator: bytes  # Tj, ', " or TJ
    items: list  # bytes (a string's codes) or float (a TJ adjustment)
    extra: bytes  # what a " operator sets before it shows: b"aw Tw ac Tc "
    font: FontCodes | None
    size: float
    char_spacing: float
    word_spacing: float


@dataclass(frozen=True)
class _Span:
    """One shown string's place in the page's text."""

    text_start: int
    show: int
    item: int
    codes: list[int] | None
    char_code: list[int] | None  # the code index of each character; None when one code is one character


def remove_tag_text(page, writer, tags: list[str]) -> int:
    """Remove from `page` (of `writer`) the glyphs of the `tags` pdfium found there; how many went."""
    if not tags:
        return 0
    data = _content_bytes(page)
    if data is None:
        return 0
    try:
        shows = _shows(data, _fonts(page))
    except _Unsure:
        return 0
    spans, text = _text(shows)
    starts = [span.text_start for span in spans]
    gone: dict[int, dict[int, set[int]]] = {}  # show -> item -> code indices
    wanted = Counter(tags)
    count = 0
    for match in TAG.finditer(text):
        if wanted[match.group(0)] <= 0 or classify_tag(match.group(1)) is None:
            continue
        owned = _glyphs(spans, starts, match.start(), match.end())
        if owned is None or not all(_editable(shows[s], spans_item) for s, spans_item in owned):
            continue
        for (s, item), indices in owned.items():
            gone.setdefault(s, {}).setdefault(item, set()).update(indices)
        wanted[match.group(0)] -= 1
        count += 1
    if count:
        _replace_contents(page, writer, _spliced(data, shows, gone))
    return count


def _content_bytes(page) -> bytes | None:
    contents = page.get("/Contents")
    contents = contents.get_object() if contents is not None else None
    parts = contents if isinstance(contents, ArrayObject) else [contents] if contents is not None else []
    try:
        return b"\n".join(part.get_object().get_data() for part in parts) if parts else None
    except Exception:  # a stream pypdf cannot decode: leave the page as it is
        return None


def _fonts(page) -> dict:
    resources = page.get("/Resources")
    resources = resources.get_object() if resources is not None else None
    fonts = resources.get("/Font") if resources is not None and hasattr(resources, "get") else None
    fonts = fonts.get_object() if fonts is not None else None
    return fonts if hasattr(fonts, "get") else {}


def _shows(data: bytes, fonts) -> list[_Show]:
    state = {"font": None, "size": 0.0, b"Tc": 0.0, b"Tw": 0.0}
    stack: list[dict] = []
    readers: dict = {}
    shows: list[_Show] = []
    for m in _TOKENS.finditer(data):
        kind = m.lastgroup
        if kind == "unsure":
            raise _Unsure
        if kind == "op":
            operator = m.group("op")
            if m.start() and data[m.start() - 1] not in _DELIMS:
                continue  # the end of some other word
            if operator == b"BI":
                raise _Unsure  # inline image data could hold anything
            if operator == b"q":
                stack.append(dict(state))
            elif operator == b"Q":
                if stack:
                    state = stack.pop()
            else:
                state[operator] = float(_operands(data, m.start(), 1).group(1))
        elif kind == "tf":
            state["font"], state["size"] = m.group("font").decode("latin-1"), float(m.group("size"))
        elif kind in ("show", "tj"):
            start, extra = m.start(), b""
            operator = b"TJ" if kind == "tj" else m.group("sop")
            if operator == b'"':  # aw ac string ": sets word and character spacing, then shows
                operands = _operands(data, start, 2)
                aw, ac = operands.groups()
                state[b"Tw"], state[b"Tc"] = float(aw), float(ac)
                start, extra = operands.start(), aw + b" Tw " + ac + b" Tc "
            if kind == "tj":
                items = [_string(t) if t[:1] in b"(<" else float(t) for t in _ARRAY_ITEM.findall(m.group("arr"))]
            else:
                items = [_string(m.group("s"))]
            name = state["font"]
            if name not in readers:
                readers[name] = font_codes(fonts.get(name)) if name else None
            shows.append(_Show(start, m.end(), operator, items, extra, readers[name], state["size"],
                               state[b"Tc"], state[b"Tw"]))
    return shows


def _operands(data: bytes, end: int, count: int) -> re.Match:
    found = _OPERANDS[count].search(data, max(0, end - 64), end)
    if found is None:
        raise _Unsure
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


def _text(shows: list[_Show]) -> tuple[list[_Span], str]:
    spans: list[_Span] = []
    chunks: list[str] = []
    length = 0
    for s, show in enumerate(shows):
        for i, item in enumerate(show.items):
            if isinstance(item, float):
                continue
            read = show.font.read(item) if show.font is not None else None
            if read is None:
                codes, chunk, char_code = None, "\ufffd", None  # unreadable: no tag we edit runs through it
            else:
                codes, chunk, char_code = read
            spans.append(_Span(length, s, i, codes, char_code))
            chunks.append(chunk)
            length += len(chunk)
    return spans, "".join(chunks)


def _glyphs(spans: list[_Span], starts: list[int], start: int, end: int) -> dict | None:
    """The (show, item) -> code indices that show characters start..end of the page's text."""
    owned: dict[tuple[int, int], set[int]] = {}
    k = bisect_right(starts, start) - 1
    while k < len(spans) and spans[k].text_start < end:
        span = spans[k]
        if span.codes is None:
            return None
        first, last = max(start, span.text_start) - span.text_start, end - span.text_start
        chars = range(first, min(last, len(span.char_code) if span.char_code is not None else len(span.codes)))
        owned.setdefault((span.show, span.item), set()).update(
            chars if span.char_code is None else {span.char_code[c] for c in chars})
        k += 1
    return owned


def _editable(show: _Show, item: int) -> bool:
    return show.font is not None and show.size != 0 and all(
        show.font.width(code) is not None for code in show.font.codes(show.items[item]) or [None])


def _spliced(data: bytes, shows: list[_Show], gone: dict[int, dict[int, set[int]]]) -> bytes:
    out, position = [], 0
    for s in sorted(gone):
        show = shows[s]
        out += [data[position:show.start], _rewritten(show, gone[s])]
        position = show.end
    out.append(data[position:])
    return b"".join(out)


def _rewritten(show: _Show, gone: dict[int, set[int]]) -> bytes:
    """The show as a TJ array without the removed glyphs, each replaced by an adjustment of its width."""
    font = show.font
    parts: list[bytes] = []
    for i, item in enumerate(show.items):
        if isinstance(item, float):
            parts.append(_number(item))
            continue
        codes, removed = font.codes(item) if i in gone else None, gone.get(i, set())
        if codes is None:
            parts.append(b"<" + item.hex().encode() + b">")
            continue
        run: list[int] = []
        shift = 0.0
        for k, code in enumerate(codes):
            if k in removed:
                if run:
                    parts.append(b"<" + font.encode(run).hex().encode() + b">")
                    run = []
                spacing = show.char_spacing + (show.word_spacing if font.code_bytes == 1 and code == 32 else 0.0)
                # a TJ number n moves the pen by -n/1000 of the font size: the glyph's width and its spacing
                shift -= font.width(code) + spacing * 1000 / show.size
            else:
                if shift:
                    parts.append(_number(shift))
                    shift = 0.0
                run.append(code)
        if run:
            parts.append(b"<" + font.encode(run).hex().encode() + b">")
        if shift:
            parts.append(_number(shift))
    prefix = {b"'": b"T* ", b'"': show.extra + b"T* "}.get(show.operator, b"")
    return prefix + b"[" + b" ".join(parts) + b"] TJ"


def _number(value: float) -> bytes:
    return (f"{value:.4f}".rstrip("0").rstrip(".") or "0").encode()


def _replace_contents(page, writer, data: bytes) -> None:
    stream = StreamObject()
    stream.set_data(data)
    stream = stream.flate_encode()
    if isinstance(page.get("/Contents"), IndirectObject) and isinstance(page["/Contents"].get_object(), StreamObject):
        page.replace_contents(stream)  # in place: a page sharing this stream shows the same tags
    else:
        page[NameObject("/Contents")] = writer._add_object(stream)  # an array's parts may serve other pages
