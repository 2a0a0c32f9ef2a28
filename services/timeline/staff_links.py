"""What a staff reader gets instead of the internal URLs an entry holds.

Entries keep the references their events carried (`/internal/...` URLs on service hosts, with the tenant in
the query), because the hash chain covers them. Staff must open every link with their own credentials, so a
staff response drops those URLs and names each file by the service and the path of that service's staff
API (`{"rel", "service", "path"}`): a staff API key, or the console, which proxies them for its session.
"""

from __future__ import annotations

import re
from typing import Any

_PREVIEW_PAGE = re.compile(r"/pages/(\d+)\.png")


def _is_internal(value: str) -> bool:
    return "/internal/" in value or "tenant_id=" in value


def _scrub(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _scrub(v) for k, v in value.items() if not (isinstance(v, str) and _is_internal(v))}
    if isinstance(value, list):
        return [_scrub(v) for v in value if not (isinstance(v, str) and _is_internal(v))]
    return value


def _links(kind: str, data: dict[str, Any]) -> list[dict[str, str]]:
    if kind == "document.stamped" and data.get("document_id") and data.get("version_id"):
        base = f"/v1/documents/{data['document_id']}/versions/{data['version_id']}"
        found = _PREVIEW_PAGE.search(str(data.get("preview_url", "")))
        links = [{"rel": "stamped_pdf", "service": "documents", "path": f"{base}/pdf"}]
        if found:
            links.append({"rel": "signed_page", "service": "documents", "path": f"{base}/pages/{found[1]}.png"})
        return links
    if kind == "signature.sealed" and data.get("pdf_id"):
        rel = "approval_certificate" if data.get("kind") == "approval_certificate" else "sealed_pdf"
        return [{"rel": rel, "service": "signing", "path": f"/v1/sealed-pdfs/{data['pdf_id']}"}]
    return []


def for_staff(entry: dict[str, Any]) -> dict[str, Any]:
    """`entry` as a staff response shows it: staff API links added, internal URLs removed."""
    return {**entry, "links": _links(entry["kind"], entry["data"]), "data": _scrub(entry["data"])}
