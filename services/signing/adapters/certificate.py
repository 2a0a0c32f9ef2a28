"""The approval certificate (for a signed task) and the evidence page (for a signed document), as PDF,
in the signer's language, with the moment of signing in the tenant's time zone (and in UTC).

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

from services.signing.adapters.proof_locale import format_moment, translator
from services.signing.domain import EvidenceRecord

_STYLES = getSampleStyleSheet()


def approval_certificate(evidence: EvidenceRecord, signature_png: bytes | None) -> bytes:
    """A PDF: the approved task as it was, the fields and signature, and the evidence of the signing."""
    task, t = evidence.task, translator(evidence.language)
    story = [Paragraph(t("approval_certificate"), _STYLES["Title"]),
             Paragraph(escape(task.title), _STYLES["Heading2"])]
    if task.description:
        story.append(Paragraph(escape(task.description).replace("\n", "<br/>"), _STYLES["BodyText"]))
    story += [Spacer(1, 4 * mm), _table([(t("phase_when_signed"), task.phase), (t("task"), task.task_id),
                                         (t("action"), evidence.action_id)])]
    if evidence.fields:
        story += [Paragraph(t("fields"), _STYLES["Heading3"]),
                  _table([(name, _value(value, t)) for name, value in evidence.fields.items()])]
    story += _signature_and_evidence(evidence, signature_png)
    return _build(story, f"{t('approval_certificate')} - {task.title}", evidence.language)


def evidence_page(evidence: EvidenceRecord, signature_png: bytes | None) -> bytes:
    """A one-page audit trail for a signed document, appended before the document is sealed."""
    t = translator(evidence.language)
    story = [Paragraph(t("signing_evidence"), _STYLES["Title"]),
             Paragraph(escape(evidence.task.title), _STYLES["Heading2"])]
    if evidence.fields:
        story += [Paragraph(t("fields"), _STYLES["Heading3"]),
                  _table([(name, _value(value, t)) for name, value in evidence.fields.items()])]
    story += _signature_and_evidence(evidence, signature_png)
    return _build(story, t("signing_evidence"), evidence.language)


def append_pdf(first: bytes, second: bytes) -> bytes:
    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(first)))
    writer.append(PdfReader(io.BytesIO(second)))
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def _signature_and_evidence(evidence: EvidenceRecord, signature_png: bytes | None) -> list:
    t = translator(evidence.language)
    story: list = [Paragraph(t("signature"), _STYLES["Heading3"])]
    if signature_png:
        image = ImageReader(io.BytesIO(signature_png))
        width, height = image.getSize()
        scale = min(70 * mm / width, 30 * mm / height)
        story.append(Image(io.BytesIO(signature_png), width * scale, height * scale, hAlign="LEFT"))
    rows = [
        (t("signed_by"), f"{evidence.signer.name} <{evidence.signer.email}>"),
        (t("contact"), evidence.signer.contact_id),
        (t("signed_at"), f"{format_moment(evidence.signed_at, evidence.language, evidence.time_zone)} "
                         f"({evidence.time_zone})"),
        (t("signed_at_utc"), evidence.signed_at.isoformat()),
        (t("authentication"), evidence.auth_method),
        (t("ip_address"), evidence.ip),
        (t("user_agent"), evidence.user_agent),
        (t("consent"), f"{evidence.consent_text} ({t('consent_version')} {evidence.consent_version})"),
        (t("signature_digest"), evidence.signature.image_digest),
    ]
    if evidence.document is not None:
        rows += [(t("document"), evidence.document.document_id),
                 (t("document_digest_signed"), evidence.document.digest_before)]
        if evidence.document.digest_after:
            rows.append((t("document_digest_stamped"), evidence.document.digest_after))
    if evidence.timeline_anchor is not None:
        anchor = evidence.timeline_anchor
        rows.append((t("timeline_head", audience=anchor.audience), f"#{anchor.seq} {anchor.hash}"))
    else:
        # said outright, so that a reader does not take the proof's silence for an anchor that matched
        rows.append((t("timeline_anchor"), t("no_anchor")))
    rows += [(t("evidence_record"), evidence.evidence_id), (t("signed_event"), evidence.signed_event_id)]
    story += [Paragraph(t("evidence"), _STYLES["Heading3"]), _table(rows)]
    return story


def _table(rows: list[tuple[str, str]]) -> Table:
    body = _STYLES["BodyText"]
    data = [[Paragraph(escape(label), body), Paragraph(escape(str(value)), body)] for label, value in rows]
    table = Table(data, colWidths=[55 * mm, 115 * mm], hAlign="LEFT")
    table.setStyle(TableStyle([("VALIGN", (0, 0), (-1, -1), "TOP"),
                               ("LINEBELOW", (0, 0), (-1, -1), 0.25, colors.lightgrey)]))
    return table


def _value(value, t) -> str:
    if isinstance(value, bool):
        return t("yes") if value else t("no")
    return "" if value is None else str(value)


def _build(story: list, title: str, language: str) -> bytes:
    buf = io.BytesIO()
    SimpleDocTemplate(buf, pagesize=A4, title=title, author="Akkoord", lang=language,
                      leftMargin=20 * mm, rightMargin=20 * mm, topMargin=20 * mm, bottomMargin=20 * mm).build(story)
    return buf.getvalue()
