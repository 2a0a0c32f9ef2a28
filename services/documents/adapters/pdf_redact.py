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

from bisect import bisect_right
from collections import Counter
from dataclasses import dataclass

from pypdf.generic import IndirectObject, NameObject, StreamObject

from services.documents.adapters.pdf_content import Show, UnreadableContent, content_bytes, page_fonts, shows_in
from services.documents.domain import TAG, classify_tag


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
    data = content_bytes(page)
    if data is None:
        return 0
    try:
        shows = shows_in(data, page_fonts(page))
    except UnreadableContent:
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


def _text(shows: list[Show]) -> tuple[list[_Span], str]:
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
            chars if span.char_code is None else {span.char_code[c] for c in chars}
        )
        k += 1
    return owned


def _editable(show: Show, item: int) -> bool:
    if show.font is None or show.size == 0:
        return False
    codes = show.font.codes(show.items[item])  # read before (_glyphs owns no unreadable item)
    return codes is not None and all(show.font.width(code) is not None for code in codes)


def _spliced(data: bytes, shows: list[Show], gone: dict[int, dict[int, set[int]]]) -> bytes:
    out, position = [], 0
    for s in sorted(gone):
        show = shows[s]
        out += [data[position : show.start], _rewritten(show, gone[s])]
        position = show.end
    out.append(data[position:])
    return b"".join(out)


def _rewritten(show: Show, gone: dict[int, set[int]]) -> bytes:
    """The show as a TJ array without the removed glyphs, each replaced by an adjustment of its width."""
    font = show.font
    if font is None:
        raise RuntimeError("only an editable show is rewritten")
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
                width = font.width(code)
                if width is None:
                    raise RuntimeError("an editable show knows each code's width")
                # a TJ number n moves the pen by -n/1000 of the font size: the glyph's width and its spacing
                shift -= width + spacing * 1000 / show.size
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
