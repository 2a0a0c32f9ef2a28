"""The approval certificate (for a signed task) and the evidence page (for a signed document), as PDF,
in the signer's language, with the moment of signing in the tenant's time zone (and in UTC).

Synchronous and CPU-bound: callers run these through `asyncio.to_thread`.
"""

from __future__ import annotations

import io

from pypdf import PdfReader, PdfWriter
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.lib.utils import ImageReader, simpleSplit
from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.pdfgen.canvas import Canvas

from services.runtime.i18n import format_moment
from services.signing.adapters.proof_locale import translator
from services.signing.domain import EvidenceRecord

# Drawn straight on a reportlab canvas: the proof is a few dozen lines of text, a table and an image, and
# platypus' flowables (paragraph and table wrapping, split passes) cost about 15 ms of CPU per certificate,
# most of what a signing cost the signing service besides its seal.
PAGE_WIDTH, PAGE_HEIGHT = A4
MARGIN = 20 * mm
WIDTH = PAGE_WIDTH - 2 * MARGIN
LABEL_WIDTH, VALUE_WIDTH = 55 * mm, 115 * mm
REGULAR, BOLD = "Helvetica", "Helvetica-Bold"
# (font, size, leading, space before, space after), after reportlab's sample Title/Heading2/Heading3/BodyText
TITLE = (BOLD, 18, 22, 0, 6)
HEADING2 = (BOLD, 14, 17, 6, 3)
HEADING3 = (BOLD, 12, 14, 8, 3)
BODY = (REGULAR, 10, 12, 0, 6)
CELL_PADDING = 3


def approval_certificate(evidence: EvidenceRecord, signature_png: bytes | None) -> bytes:
    """A PDF: the approved task as it was, the fields and signature, and the evidence of the signing."""
    task, t = evidence.task, translator(evidence.language)
    sheet = _Sheet(f"{t('approval_certificate')} - {task.title}", evidence.language)
    sheet.text(t("approval_certificate"), TITLE)
    sheet.text(task.title, HEADING2)
    if task.description:
        sheet.text(task.description, BODY)
    sheet.space(4 * mm)
    sheet.table([(t("phase_when_signed"), task.phase), (t("task"), task.task_id), (t("action"), evidence.action_id)])
    if evidence.fields:
        sheet.text(t("fields"), HEADING3)
        sheet.table([(name, _value(value, t)) for name, value in evidence.fields.items()])
    _signature_and_evidence(sheet, evidence, signature_png)
    return sheet.finish()


def evidence_page(evidence: EvidenceRecord, signature_png: bytes | None) -> bytes:
    """A one-page audit trail for a signed document, appended before the document is sealed."""
    t = translator(evidence.language)
    sheet = _Sheet(t("signing_evidence"), evidence.language)
    sheet.text(t("signing_evidence"), TITLE)
    sheet.text(evidence.task.title, HEADING2)
    if evidence.fields:
        sheet.text(t("fields"), HEADING3)
        sheet.table([(name, _value(value, t)) for name, value in evidence.fields.items()])
    _signature_and_evidence(sheet, evidence, signature_png)
    return sheet.finish()


def append_pdf(first: bytes, second: bytes) -> bytes:
    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(first)))
    writer.append(PdfReader(io.BytesIO(second)))
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def _signature_and_evidence(sheet: _Sheet, evidence: EvidenceRecord, signature_png: bytes | None) -> None:
    t = translator(evidence.language)
    sheet.text(t("signature"), HEADING3)
    if signature_png:
        sheet.image(signature_png, 70 * mm, 30 * mm)
    rows = [
        (t("signed_by"), f"{evidence.signer.name} <{evidence.signer.email}>"),
        (t("contact"), evidence.signer.contact_id),
        (
            t("signed_at"),
            f"{format_moment(evidence.signed_at, evidence.language, evidence.time_zone)} ({evidence.time_zone})",
        ),
        (t("signed_at_utc"), evidence.signed_at.isoformat()),
        (t("authentication"), evidence.auth_method),
        (t("ip_address"), evidence.ip),
        (t("user_agent"), evidence.user_agent),
        (t("consent"), f"{evidence.consent_text} ({t('consent_version')} {evidence.consent_version})"),
        (t("signature_digest"), evidence.signature.image_digest),
    ]
    if evidence.document is not None:
        rows += [
            (t("document"), evidence.document.document_id),
            (t("document_digest_signed"), evidence.document.digest_before),
        ]
        if evidence.document.digest_after:
            rows.append((t("document_digest_stamped"), evidence.document.digest_after))
    if evidence.timeline_anchor is not None:
        anchor = evidence.timeline_anchor
        rows.append((t("timeline_head", audience=anchor.audience), f"#{anchor.seq} {anchor.hash}"))
    else:
        # said outright, so that a reader does not take the proof's silence for an anchor that matched
        rows.append((t("timeline_anchor"), t("no_anchor")))
    rows += [(t("evidence_record"), evidence.evidence_id), (t("signed_event"), evidence.signed_event_id)]
    sheet.text(t("evidence"), HEADING3)
    sheet.table(rows)


def _value(value, t) -> str:
    if isinstance(value, bool):
        return t("yes") if value else t("no")
    return "" if value is None else str(value)


def _lines(text: str, font: str, size: float, width: float) -> list[str]:
    """Word-wrapped lines; a word wider than the line (a digest, a user agent) is broken where it must be."""
    lines: list[str] = []
    for paragraph in str(text).splitlines() or [""]:
        for line in simpleSplit(paragraph, font, size, width) or [""]:
            while stringWidth(line, font, size) > width:
                cut = next(i for i in range(len(line), 0, -1) if stringWidth(line[: i - 1], font, size) <= width) - 1
                lines.append(line[: max(cut, 1)])
                line = line[max(cut, 1) :]
            lines.append(line)
    return lines


class _Sheet:
    """Flows text, tables and an image down A4 pages, starting a new page where the next piece does not fit."""

    def __init__(self, title: str, language: str):
        self.buffer = io.BytesIO()
        self.canvas = Canvas(self.buffer, pagesize=A4, lang=language, pageCompression=1)
        self.canvas.setTitle(title)
        self.canvas.setAuthor("Akkoord")
        self.y = PAGE_HEIGHT - MARGIN

    def room_for(self, height: float) -> None:
        if self.y - height < MARGIN and self.y < PAGE_HEIGHT - MARGIN:
            self.canvas.showPage()
            self.y = PAGE_HEIGHT - MARGIN

    def space(self, height: float) -> None:
        self.y -= height

    def text(self, text: str, style: tuple) -> None:
        font, size, leading, before, after = style
        self.y -= before
        for line in _lines(text, font, size, WIDTH):
            self.room_for(leading)
            self.y -= leading
            self.canvas.setFont(font, size)
            self.canvas.drawString(MARGIN, self.y + (leading - size), line)
        self.y -= after

    def image(self, png: bytes, max_width: float, max_height: float) -> None:
        image = ImageReader(io.BytesIO(png))
        width, height = image.getSize()
        scale = min(max_width / width, max_height / height)
        self.room_for(height * scale)
        self.y -= height * scale
        self.canvas.drawImage(image, MARGIN, self.y, width * scale, height * scale, mask="auto")

    def table(self, rows: list[tuple[str, str]]) -> None:
        font, size, leading, _, _ = BODY
        for label, value in rows:
            labels = _lines(label, font, size, LABEL_WIDTH - 2 * CELL_PADDING)
            values = _lines(value, font, size, VALUE_WIDTH - 2 * CELL_PADDING)
            height = max(len(labels), len(values)) * leading + 2 * CELL_PADDING
            self.room_for(height)
            top = self.y
            self.canvas.setFont(font, size)
            for x, lines in ((MARGIN, labels), (MARGIN + LABEL_WIDTH, values)):
                for i, line in enumerate(lines):
                    self.canvas.drawString(
                        x + CELL_PADDING, top - CELL_PADDING - (i + 1) * leading + (leading - size), line
                    )
            self.y = top - height
            self.canvas.setStrokeColor(colors.lightgrey)
            self.canvas.setLineWidth(0.25)
            self.canvas.line(MARGIN, self.y, MARGIN + LABEL_WIDTH + VALUE_WIDTH, self.y)

    def finish(self) -> bytes:
        self.canvas.showPage()
        self.canvas.save()
        return self.buffer.getvalue()
