"""What the task page shows, gathered from tasks' own handlers and the other services' staff APIs."""

from __future__ import annotations

import asyncio
from typing import Any

from contracts.errors import DomainError, NotFound
from services.tasks.entrypoints.console.deps import PREFIX, Console, Viewer
from services.tasks.entrypoints.console.render import catalogue
from services.tasks.entrypoints.console.timeline_words import summary
from services.tasks.handlers import tasks

# Proof details in the order the page lists them.
PROOF_FIELDS = ("ip", "user_agent", "auth_method", "consent_version", "consent_text")


def file_url(link: dict[str, str]) -> str:
    """A staff API link of the timeline, as the console's own route that opens it for the session."""
    return f"{PREFIX}/files/{link['service']}{link['path']}"


async def _or_none(call) -> Any:
    try:
        return await call
    except DomainError:
        return None


async def documents_of(console: Console, viewer: Viewer) -> list[dict]:
    found = await _or_none(
        console.services.json(viewer.staff, "GET", "documents", "/v1/documents", params={"limit": 100})
    )
    return found["documents"] if found else []


async def document_detail(console: Console, viewer: Viewer, document_id: str) -> dict | None:
    return await _or_none(console.services.json(viewer.staff, "GET", "documents", f"/v1/documents/{document_id}"))


async def task_page_values(console: Console, viewer: Viewer, task_id: str) -> dict[str, Any]:
    task = await tasks.get_task(console.uow, viewer.staff, task_id)  # NotFound for another tenant's task
    staff = viewer.staff
    timeline, verification, documents, people, phases = await asyncio.gather(
        _or_none(
            console.services.json(
                staff, "GET", "timeline", f"/v1/tasks/{task_id}/timeline", params={"audience": "staff", "limit": 200}
            )
        ),
        _or_none(console.services.json(staff, "GET", "timeline", f"/v1/tasks/{task_id}/timeline/verify")),
        documents_of(console, viewer),
        console.queries.all_contacts(staff.tenant_id),
        tasks.list_phases(console.uow, staff),
    )
    by_id = {c.id: c for c in people}
    if task["contact_id"] and task["contact_id"] not in by_id:
        by_id.update(await console.queries.contacts_by_id(staff.tenant_id, [task["contact_id"]]))
    # Placeholders of each document's current version, for the extra select's descriptions.
    details = await asyncio.gather(*(document_detail(console, viewer, d["id"]) for d in documents[:30]))
    current = {}
    for detail in details:
        if detail:
            latest = next((v for v in detail.get("versions") or [] if v["id"] == detail["latest_version_id"]), None)
            current[detail["id"]] = latest
    entries = (timeline or {}).get("entries", [])
    t, names = catalogue(viewer.lang), {cid: c.name for cid, c in by_id.items()}
    for entry in entries:
        entry["files"] = {link["rel"]: file_url(link) for link in entry.get("links", [])}
        entry["said"] = summary(entry, t, names)
    open_actions = [a for a in task["actions"] if a["status"] == "open"]
    return {
        "task": task,
        "contact": by_id.get(task["contact_id"]) if task["contact_id"] else None,
        "contacts": people,
        "contact_names": {cid: c.name for cid, c in by_id.items()},
        "documents": documents,
        "current_versions": current,
        "phases": phases["phases"],
        "entries": entries,
        "timeline_known": timeline is not None,
        "verification": verification,
        "open_actions": open_actions,
        "proof_fields": PROOF_FIELDS,
        "form": None,
    }


def require_found(value: Any, what: str) -> Any:
    if value is None:
        raise NotFound(f"{what} not found")
    return value
