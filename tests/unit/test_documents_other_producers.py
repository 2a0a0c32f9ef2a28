"""Templates from another producer (cairo, via poppler's pdftocairo: embedded subset fonts, its own
text encoding) have their tags found and stamped, and the result passes `qpdf --check`."""

from __future__ import annotations

import shutil
import subprocess

import pypdfium2 as pdfium

from services.documents.adapters.pdf_inspect import inspect_pdf
from services.documents.adapters.pdf_stamp import stamp_pdf
from tests.unit.test_documents_stamping import stamp, template


def tool(name: str) -> str:
    path = shutil.which(name)
    assert path, f"{name} is needed by this test: apt-get install qpdf poppler-utils"
    return path


def test_a_cairo_made_template_is_found_and_stamped(tmp_path):
    (tmp_path / "reportlab.pdf").write_bytes(template([(72, 400, "Sign: {{signature}}"),
                                                       (72, 300, "Name {{signer_name}} on {{signed_at}}")]))
    subprocess.run([tool("pdftocairo"), "-pdf", tmp_path / "reportlab.pdf", tmp_path / "cairo.pdf"], check=True,
                   timeout=60)
    source = (tmp_path / "cairo.pdf").read_bytes()
    tags = inspect_pdf(source, max_pages=5).placeholders
    assert [t.kind for t in tags] == ["signature", "signer_name", "signed_at"]

    stamped = stamp_pdf(source, tags, stamp())
    (tmp_path / "stamped.pdf").write_bytes(stamped.pdf)
    check = subprocess.run([tool("qpdf"), "--check", tmp_path / "stamped.pdf"], capture_output=True, text=True,
                           timeout=60)
    assert "No syntax or stream encoding errors found" in check.stdout
    assert "Jan de Vries" in pdfium.PdfDocument(stamped.pdf)[0].get_textpage().get_text_bounded()
