"""PDF micro-benchmarks on a generated 50-page PDF, each next to a baseline measured in the same run.

The functions measured are the services' own (tag search, stamping, preview in documents; the seal in
signing); the bench is not a service, so importing their pure adapters is fine. Baselines: a plain
pypdf read + write round trip of the same bytes, a plain file copy, and a plain pypdfium2 render.
"""

from __future__ import annotations

import io
import os
import shutil
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pypdfium2 as pdfium
from cryptography.hazmat.primitives.asymmetric import rsa
from PIL import Image, ImageDraw
from pypdf import PdfReader, PdfWriter
from reportlab.lib.pagesizes import A4
from reportlab.pdfgen import canvas

from bench.stats import ratio, repeat
from services.documents.adapters.pdf_inspect import TagPages, find_placeholders
from services.documents.adapters.pdf_render import render_page_png
from services.documents.adapters.pdf_stamp import Stamp, stamp_pdf
from services.documents.adapters.pdfium_guard import PDFIUM
from services.signing.adapters.issuing import certificate_pem, distinguished_name, issue, private_key_pem
from services.signing.adapters.keys import SealKey, generate_development_key
from services.signing.adapters.seal import Sealer

PAGES = 50
TAGGED_PAGES = {1: "{{signer_name}}", 25: "{{signed_at}}", 50: "{{signature}}"}
LINE = "Werkbon {page}: onderhoud, vervangen onderdelen en gewerkte uren volgens afspraak. Regel {line}."


def fifty_page_pdf() -> bytes:
    """A text-heavy 50-page A4 work order, with placeholder tags on pages 1, 25 and 50: about 5,300
    characters a page (60 lines of 9 pt small print, as dense as a page of terms gets)."""
    buf = io.BytesIO()
    c = canvas.Canvas(buf, pagesize=A4)
    _, height = A4
    for page in range(1, PAGES + 1):
        c.setFont("Helvetica-Bold", 14)
        c.drawString(72, height - 72, f"Work order page {page} of {PAGES}")
        c.setFont("Helvetica", 9)
        for line in range(60):
            c.drawString(72, height - 100 - line * 11, LINE.format(page=page, line=line + 1))
        if page in TAGGED_PAGES:
            c.setFont("Helvetica", 11)
            c.drawString(320, 90, TAGGED_PAGES[page])
        c.showPage()
    c.save()
    return buf.getvalue()


def signature_png() -> bytes:
    image = Image.new("RGBA", (300, 100), (255, 255, 255, 0))
    ImageDraw.Draw(image).line([(10, 70), (80, 20), (150, 80), (220, 25), (290, 60)], fill=(0, 0, 80, 255), width=4)
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


def rsa_seal_key() -> SealKey:
    """An RSA-2048 seal key with a self-signed certificate: the other key type a deployment may bring."""
    key, now = rsa.generate_private_key(public_exponent=65537, key_size=2048), datetime.now(UTC)
    cert = issue(
        distinguished_name("Bench RSA seal"),
        key,
        not_before=now - timedelta(minutes=5),
        not_after=now + timedelta(days=1),
    )
    return SealKey(key_pem=private_key_pem(key), cert_pem=certificate_pem(cert), development=False)


def pypdf_round_trip(data: bytes) -> bytes:
    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(data)))
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def file_copy(src: Path, dst: Path) -> None:
    shutil.copyfile(src, dst)
    dst.read_bytes()


def find_tags(data: bytes):
    """The service's tag search from the bytes: pypdf's view of the file (the pre-filter) and pdfium's."""
    candidates = TagPages.of(PdfReader(io.BytesIO(data)))
    with PDFIUM:
        document = pdfium.PdfDocument(data)
        try:
            return find_placeholders(document, candidates)
        finally:
            document.close()


LIBREOFFICE_WORK_ORDER = Path(__file__).resolve().parents[1] / "tests" / "fixtures" / "libreoffice" / "work_order.pdf"


def libreoffice_fifty_pages() -> bytes:
    """The LibreOffice-made work order of tests/fixtures grown to 50 pages (its first page 49 times, then
    its page with four tags): another producer's fonts, symbolic TrueType subsets, every glyph kerned."""
    work_order = PdfReader(LIBREOFFICE_WORK_ORDER)
    writer = PdfWriter()
    for _ in range(PAGES - 1):
        writer.add_page(work_order.pages[0])
    writer.add_page(work_order.pages[1])
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def plain_render(data: bytes) -> bytes:
    document = pdfium.PdfDocument(data)
    try:
        page = document[0]
        image = page.render(scale=1.0).to_pil()
        page.close()
    finally:
        document.close()
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


def run(runs: int = 30) -> dict:
    data = fifty_page_pdf()
    tags = find_tags(data)
    assert len(tags) == len(TAGGED_PAGES), f"expected {len(TAGGED_PAGES)} tags, found {tags}"
    libreoffice = libreoffice_fifty_pages()
    assert len(find_tags(libreoffice)) == 4
    stamp = Stamp(
        signature_png=signature_png(),
        signer_name="Jan de Vries",
        signed_at="2026-11-30 10:00 UTC",
        source_digest="0" * 64,
        title="Work order",
    )
    stamped = stamp_pdf(data, tags, stamp).pdf
    # As in the service: one Sealer per key, built at startup, then one seal per call.
    ec_sealer, rsa_sealer = Sealer(generate_development_key()), Sealer(rsa_seal_key())
    with tempfile.TemporaryDirectory() as tmp:
        src, dst = Path(tmp) / "in.pdf", Path(tmp) / "out.pdf"
        src.write_bytes(data)
        baselines = {
            "pypdf_round_trip": repeat(lambda: pypdf_round_trip(data), runs),
            "file_copy": repeat(lambda: file_copy(src, dst), runs),
            "plain_pdfium_render": repeat(lambda: plain_render(data), runs),
        }
    measured = {
        "tag_search": (repeat(lambda: find_tags(data), runs), "pypdf_round_trip", 25.0),
        "tag_search_libreoffice": (repeat(lambda: find_tags(libreoffice), runs), "pypdf_round_trip", 25.0),
        "stamping": (repeat(lambda: stamp_pdf(data, tags, stamp), runs), "pypdf_round_trip", None),
        "seal": (repeat(lambda: ec_sealer.seal(stamped, "bench-evidence"), runs), "pypdf_round_trip", 20.0),
        "seal_rsa2048": (repeat(lambda: rsa_sealer.seal(stamped, "bench-evidence"), runs), "pypdf_round_trip", None),
        "preview_page_1x": (repeat(lambda: render_page_png(data, 1), runs), "plain_pdfium_render", 15.0),
    }
    results = {}
    copy = baselines["file_copy"]
    for name, (stats, baseline, goal_ms) in measured.items():
        base = baselines[baseline]
        results[name] = {
            **stats,
            "baseline": baseline,
            "goal_ms": goal_ms,
            "ratio_to_baseline": ratio(stats["median_ms"], base["median_ms"]),
            "cpu_ratio_to_baseline": ratio(stats["cpu_median_ms"], base["cpu_median_ms"]),
            "ratio_to_file_copy": ratio(stats["median_ms"], copy["median_ms"]),
        }
    # Issue 5's stamping goal is relative: at most 2x the pypdf round trip of the same file.
    results["stamping"]["goal_ratio"] = 2.0
    return {
        "pdf_bytes": len(data),
        "pages": PAGES,
        "tags": len(tags),
        "runs": runs,
        "load_average": os.getloadavg(),
        "baselines": baselines,
        "operations": results,
    }


def verdicts(stats: dict) -> list[str]:
    """Goals are judged on CPU time: on a shared box the wall clock also counts other people's work."""
    out = []
    if stats.get("goal_ms"):
        ok = stats["cpu_median_ms"] <= stats["goal_ms"]
        out.append(f"goal <= {stats['goal_ms']:.0f} ms: {'PASS' if ok else 'MISS'}")
    if stats.get("goal_ratio"):
        ok = stats["cpu_ratio_to_baseline"] <= stats["goal_ratio"]
        out.append(f"goal <= {stats['goal_ratio']:.0f}x round trip: {'PASS' if ok else 'MISS'}")
    return out


def print_report(result: dict) -> None:
    load = ", ".join(f"{x:.1f}" for x in result["load_average"])
    print(
        f"\nPDF micro-benchmarks: {result['pages']} pages, {result['pdf_bytes'] / 1024:.0f} KiB, "
        f"{result['tags']} tags, {result['runs']} runs each; load average {load}"
    )
    print(f"  {'':<31} {'wall median / p95 ms':>22} {'CPU median ms':>14}   ratio (wall, CPU)")
    for name, stats in result["baselines"].items():
        print(
            f"  baseline {name:<22} {stats['median_ms']:10.2f} / {stats['p95_ms']:9.2f} {stats['cpu_median_ms']:14.2f}"
        )
    for name, stats in result["operations"].items():
        goal = verdicts(stats)
        print(
            f"  {name:<31} {stats['median_ms']:10.2f} / {stats['p95_ms']:9.2f} {stats['cpu_median_ms']:14.2f}   "
            f"x{stats['ratio_to_baseline']}, x{stats['cpu_ratio_to_baseline']} of {stats['baseline']}; "
            f"x{stats['ratio_to_file_copy']} of file copy" + (f"  [{'; '.join(goal)}]" if goal else "")
        )
    print("  (goals judged on CPU time, the operation's own cost; wall time includes other load on the box)")
