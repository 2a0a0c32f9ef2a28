"""The approval certificate (for a signed task) and the evidence page (for a signed document), as PDF.

Synchronous and CPU-bound: callers run these through `asyncio.to_thread`.
"""

from __future__ import annotations

import io

from pypdf import PdfReader, PdfWriter
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import getSampleStyleSheet
from reportlab.lib.units import mm
from reportlab.lib.utils import ImageReader
from reportlab.platypus import Image, Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle
from xml.sax.saxutils import escape

from services.signing.domain import EvidenceRecord

_STYLES = getSampleStyleSheet()


def approval_certificate(evidence: EvidenceRecord, signature_png: bytes | None) -> bytes:
    """A PDF: the approved task as it was, the fields and signature, and the evidence of the signing."""
    task = evidence.task
    story = [Paragraph("Approval certificate", _STYLES["Title"]),
             Paragraph(escape(task.title), _STYLES["Heading2"])]
    if task.description:
        story.append(Paragraph(escape(task.description).replace("\n", "<br/>"), _STYLES["BodyText"]))
    story += [Spacer(1, 4 * mm), _table([("Phase when signed", task.phase), ("Task", task.task_id),
                                         ("Action", evidence.action_id)])]
    if evidence.fields:
        story += [Paragraph("Fields", _STYLES["Heading3"]),
                  _table([(name, _value(value)) for name, value in evidence.fields.items()])]
    story += _signature_and_evidence(evidence, signature_png)
    return _build(story, f"Approval certificate - {task.title}")


def evidence_page(evidence: EvidenceRecord, signature_png: bytes | None) -> bytes:
    """A one-page audit trail for a signed document, appended before the document is sealed."""
    story = [Paragraph("Signing evidence", _STYLES["Title"]), Paragraph(escape(evidence.task.title), _STYLES["Heading2"])]
    if evidence.fields:
        story += [Paragraph("Fields", _STYLES["Heading3"]),
                  _table([(name, _value(value)) for name, value in evidence.fields.items()])]
    story += _signature_and_evidence(evidence, signature_png)
    return _build(story, "Signing evidence")


def append_pdf(first: bytes, second: bytes) -> bytes:
    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(first)))
    writer.append(PdfReader(io.BytesIO(second)))
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def _signature_and_evidence(evidence: EvidenceRecord, signature_png: bytes | None) -> list:
    story: list = [Paragraph("Signature", _STYLES["Heading3"])]
    if signature_png:
        image = ImageReader(io.BytesIO(signature_png))
        width, height = image.getSize()
        scale = min(70 * mm / width, 30 * mm / height)
        story.append(Image(io.BytesIO(signature_png), width * scale, height * scale, hAlign="LEFT"))
    rows = [
        ("Signed by", f"{evidence.signer.name} <{evidence.signer.email}>"),
        ("Contact", evidence.signer.contact_id),
        ("Signed at (server time)", evidence.signed_at.isoformat()),
        ("Authentication", evidence.auth_method),
        ("IP address", evidence.ip),
        ("User agent", evidence.user_agent),
        ("Consent", f"{evidence.consent_text} (version {evidence.consent_version})"),
        ("Signature image SHA-256", evidence.signature.image_digest),
    ]
    if evidence.document is not None:
        rows += [("Document", evidence.document.document_id),
                 ("Document SHA-256 as signed", evidence.document.digest_before)]
        if evidence.document.digest_after:
            rows.append(("Document SHA-256 after stamping", evidence.document.digest_after))
    if evidence.timeline_anchor is not None:
        anchor = evidence.timeline_anchor
        rows.append((f"Timeline ({anchor.audience}) head", f"#{anchor.seq} {anchor.hash}"))
    rows += [("Evidence record", evidence.evidence_id), ("Signed event", evidence.signed_event_id)]
    story += [Paragraph("Evidence", _STYLES["Heading3"]), _table(rows)]
    return story


def _table(rows: list[tuple[str, str]]) -> Table:
    body = _STYLES["BodyText"]
    data = [[Paragraph(escape(label), body), Paragraph(escape(str(value)), body)] for label, value in rows]
    table = Table(data, colWidths=[55 * mm, 115 * mm], hAlign="LEFT")
    table.setStyle(TableStyle([("VALIGN", (0, 0), (-1, -1), "TOP"),
                               ("LINEBELOW", (0, 0), (-1, -1), 0.25, colors.lightgrey)]))
    return table


def _value(value) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    return "" if value is None else str(value)


def _build(story: list, title: str) -> bytes:
    buf = io.BytesIO()
    SimpleDocTemplate(buf, pagesize=A4, title=title, author="Akkoord",
                      leftMargin=20 * mm, rightMargin=20 * mm, topMargin=20 * mm, bottomMargin=20 * mm).build(story)
    return buf.getvalue()
