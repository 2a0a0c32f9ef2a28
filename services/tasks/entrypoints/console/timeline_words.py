"""The staff timeline's entries in the user's language: timeline writes its summaries in English (they are
part of its hash chain), so the console says each kind of entry again from the entry's data."""

from __future__ import annotations

from typing import Any


def _said(kind: str, d: dict[str, Any], t: dict[str, str], who: str) -> str | None:
    by_rule = t["tl_by_rule"].format(rule=d["rule_name"]) if d.get("rule_name") else ""
    match kind:
        case "task.created":
            return t["tl_task_created"].format(title=d["title"], phase=d["phase"])
        case "task.updated":
            return t["tl_task_updated"].format(title=d["title"])
        case "task.phase_changed":
            return t["tl_phase_changed"].format(old=d["from_phase"], new=d["to_phase"]) + by_rule
        case "task.action_requested":
            key = "tl_document_requested" if d.get("kind") == "sign_document" else "tl_signature_requested"
            return t[key].format(name=d["contact"]["name"]) + by_rule
        case "task.action_cancelled":
            return t["tl_cancelled"].format(name=who)
        case "task.action_completed":
            return t["tl_completed"].format(name=who)
        case "action.expired":
            return t["tl_expired"].format(name=who)
        case "action.reminder_due":
            return t["tl_reminder"].format(n=d["reminder_number"], name=who)
        case "task.signed":
            return t["tl_signed"].format(name=d["signer"]["name"])
        case "document.signed":
            return t["tl_document_signed"].format(name=d["signer"]["name"])
        case "action.declined":
            return t["tl_declined"].format(name=who, reason=d.get("reason") or "")
        case "signing.rejected":
            return t["tl_signing_rejected"].format(
                name=who, status=t.get(f"tl_status_{d['action_status']}", d["action_status"])
            )
        case "decline.rejected":
            return t["tl_decline_rejected"].format(
                name=who, status=t.get(f"tl_status_{d['action_status']}", d["action_status"])
            )
        case "document.stamped":
            return t["tl_stamped"]
        case "approval.withdrawn":
            return t["tl_withdrawn"].format(reason=d.get("reason") or "")
        case "evidence.recorded":
            return t["tl_evidence"]
        case "signature.sealed":
            return t["tl_certificate_sealed" if d.get("kind") == "approval_certificate" else "tl_document_sealed"]
        case "timeline.note_added":
            return t["tl_note"].format(text=d.get("text", "")) + by_rule
    return None


def summary(entry: dict[str, Any], t: dict[str, str], contact_names: dict[str, str]) -> str:
    """The entry's summary in `t`'s language; timeline's own words for a kind this console does not know."""
    who = contact_names.get(entry.get("contact_id") or "") or t["tl_the_contact"]
    try:
        return _said(entry["kind"], entry.get("data") or {}, t, who) or entry["summary"]
    except (KeyError, TypeError, AttributeError):
        return entry["summary"]
