"""Finding placeholder tags in a PDF's text: every spelling, split runs, several pages, hostile files."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from pypdf import PdfReader, PdfWriter
from reportlab.lib.pagesizes import letter

from contracts.errors import Invalid
from services.documents.adapters.pdf_inspect import inspect_pdf
from services.documents.domain import classify_tag
from tests.support.pdfs import pdf_with

ROOT = Path(__file__).resolve().parents[2]


def test_every_tag_spelling_is_classified():
    assert classify_tag("signature") == ("signature", None)
    assert classify_tag(" signer_name ") == ("signer_name", None)
    assert classify_tag("signed_at") == ("signed_at", None)
    assert classify_tag("field:po_number") == ("field", "po_number")
    assert classify_tag("Name;type=signature;role=Customer") == ("signature", None)
    assert classify_tag("Date;type=date;role=Customer") == ("signed_at", None)
    assert classify_tag("PO Number;type=text;role=Customer") == ("field", "po_number")
    assert classify_tag("something else") is None
    assert classify_tag("field:") is None


def test_tags_are_found_with_their_page_and_box():
    data = pdf_with([[(72, 700, "Intro")], [(72, 200, "Sign here: {{signature}}"), (300, 100, "{{signer_name}}")]])
    facts = inspect_pdf(data, max_pages=10)
    assert facts.pages == 2
    by_kind = {p.kind: p for p in facts.placeholders}
    assert set(by_kind) == {"signature", "signer_name"}
    signature = by_kind["signature"]
    assert signature.page == 2 and signature.tag == "{{signature}}"
    left, bottom, right, top = signature.box
    assert 72 < left < right < 300 and 195 < bottom < top < 215


def test_a_tag_split_across_text_runs_is_still_one_tag():
    data = pdf_with([[(72, 200, "{{signed_"), (126, 200, "at}}")]])
    (tag,) = inspect_pdf(data, max_pages=10).placeholders
    assert tag.kind == "signed_at" and tag.tag == "{{signed_at}}"


def test_a_tag_repeated_on_several_pages_is_found_on_each():
    data = pdf_with([[(72, 100, "{{signature}}")]] * 3, pagesize=letter)
    assert [p.page for p in inspect_pdf(data, max_pages=10).placeholders] == [1, 2, 3]


def test_docuseal_tags_and_field_tags_are_found():
    data = pdf_with([[(72, 300, "{{Customer;type=signature;role=Customer}}"), (72, 280, "{{field:po_number}}")]])
    kinds = [(p.kind, p.field) for p in inspect_pdf(data, max_pages=10).placeholders]
    assert kinds == [("signature", None), ("field", "po_number")]


def test_text_that_merely_has_braces_is_not_a_tag():
    data = pdf_with([[(72, 300, "a {{ b and {{unknown_thing}} and }} c")]])
    assert inspect_pdf(data, max_pages=10).placeholders == []


def test_a_file_that_is_not_a_pdf_is_refused():
    with pytest.raises(Invalid, match="not a PDF"):
        inspect_pdf(b"hello, I am a text file", max_pages=10)


def test_a_truncated_pdf_is_refused():
    with pytest.raises(Invalid):
        inspect_pdf(pdf_with([[(72, 300, "x")]])[:300], max_pages=10)


def encrypted(user_password: str) -> bytes:
    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(pdf_with([[(72, 300, "{{signature}}")]]))))
    writer.encrypt(user_password=user_password, owner_password="owner-secret", algorithm="AES-256")
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def test_an_encrypted_pdf_with_a_password_is_refused_with_a_message():
    with pytest.raises(Invalid, match="encrypted"):
        inspect_pdf(encrypted("secret"), max_pages=10)


def test_an_encrypted_pdf_with_an_empty_user_password_is_accepted():
    facts = inspect_pdf(encrypted(""), max_pages=10)
    assert [p.kind for p in facts.placeholders] == ["signature"]


def test_a_pdf_with_more_pages_than_allowed_is_refused():
    with pytest.raises(Invalid, match="at most 5"):
        inspect_pdf(pdf_with([[(72, 300, "page")]] * 6), max_pages=5)


def a_decompression_bomb(inflated_mb: int) -> bytes:
    """One page whose content stream is small compressed and huge inflated (mostly a PDF comment)."""
    import zlib

    from pypdf.generic import NameObject, StreamObject

    content = b"%" + b" " * (inflated_mb * 1024 * 1024) + b"\nBT /F1 12 Tf 72 700 Td ({{signature}}) Tj ET\n"
    writer = PdfWriter()
    page = writer.add_blank_page(595, 842)
    stream = StreamObject()
    stream._data = zlib.compress(content, 9)
    stream[NameObject("/Filter")] = NameObject("/FlateDecode")
    page[NameObject("/Contents")] = writer._add_object(stream)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def test_a_decompression_bomb_is_refused_before_it_is_inflated():
    bomb = a_decompression_bomb(64)
    assert len(bomb) < 200_000
    with pytest.raises(Invalid, match="decompression bomb"):
        inspect_pdf(bomb, max_pages=10, max_inflated_bytes=16 * 1024 * 1024)


def a_layered_bomb(layers: list[str], inflated_mb: int) -> bytes:
    """A decompression bomb behind other filters: ASCII85 before Flate (as reportlab writes content), or
    Flate inside Flate."""
    import base64
    import zlib

    from pypdf.generic import ArrayObject, NameObject, StreamObject

    data = b"%" + b" " * (inflated_mb * 1024 * 1024) + b"\nBT /F1 12 Tf 72 700 Td ({{signature}}) Tj ET\n"
    for name in reversed(layers):
        data = zlib.compress(data, 9) if name == "/FlateDecode" else base64.a85encode(data) + b"~>"
    writer = PdfWriter()
    page = writer.add_blank_page(595, 842)
    stream = StreamObject()
    stream._data = data
    stream[NameObject("/Filter")] = ArrayObject([NameObject(n) for n in layers])
    page[NameObject("/Contents")] = writer._add_object(stream)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


@pytest.mark.parametrize("layers", [["/ASCII85Decode", "/FlateDecode"], ["/FlateDecode", "/FlateDecode"]])
def test_a_decompression_bomb_behind_other_filters_is_refused_too(layers):
    bomb = a_layered_bomb(layers, 64)
    assert len(bomb) < 400_000
    with pytest.raises(Invalid, match="decompression bomb"):
        inspect_pdf(bomb, max_pages=10, max_inflated_bytes=16 * 1024 * 1024)
    # and the same filters on an ordinary page are read as before
    small = a_layered_bomb(layers, 1)
    assert [p.kind for p in inspect_pdf(small, max_pages=10, max_inflated_bytes=16 * 1024 * 1024).placeholders] == [
        "signature"
    ]
