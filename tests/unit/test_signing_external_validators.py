"""Independent tools agree with us: qpdf finds the stamped and sealed files sound, poppler's pdfsig
finds the seal valid over the whole document. (Debian packages `qpdf` and `poppler-utils`.)"""

from __future__ import annotations

from services.documents.adapters.pdf_inspect import inspect_pdf
from services.documents.adapters.pdf_stamp import stamp_pdf
from services.signing.adapters.certificate import append_pdf, approval_certificate, evidence_page
from services.signing.adapters.seal import seal_pdf
from tests.support.pdf_tools import run
from tests.support.seals import KEY, an_evidence_record
from tests.support.stamping import stamp, template


def test_qpdf_finds_stamped_and_sealed_pdfs_sound(tmp_path):
    source = template([(72, 400, "{{signature}}"), (72, 300, "{{signer_name}}")])
    stamped = stamp_pdf(source, inspect_pdf(source, max_pages=10).placeholders, stamp()).pdf
    sealed = seal_pdf(append_pdf(stamped, evidence_page(an_evidence_record(), None)), KEY, "evidence-1")
    for name, data in (
        ("stamped.pdf", stamped),
        ("sealed.pdf", sealed),
        ("appended.pdf", stamp_pdf(source, [], stamp()).pdf),
    ):
        (tmp_path / name).write_bytes(data)
        assert "No syntax or stream encoding errors found" in run("qpdf", "--check", tmp_path / name), name


def test_pdfsig_finds_the_seal_valid_over_the_total_document(tmp_path):
    path = tmp_path / "certificate.pdf"
    path.write_bytes(seal_pdf(approval_certificate(an_evidence_record(), None), KEY, "evidence-1"))
    report = run("pdfsig", path)
    assert "Signature is Valid" in report and "Total document signed" in report
    assert "ETSI.CAdES.detached" in report
