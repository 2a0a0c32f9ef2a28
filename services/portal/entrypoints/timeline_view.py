"""Turns portal timeline entries into what the task page shows, in the contact's language.

The timeline service writes English summaries; the page names each kind itself and falls back to the
summary for kinds it does not know. Internal URLs in entries are never shown: artefacts are linked through
the portal's own routes, scoped to the contact's action.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from services.portal.i18n import phase_name

LABELS = {
    "en": {
        "task.action_requested": "Signature requested",
        "sign_document_requested": "Document signature requested",
        "task.signed": "You signed",
        "document.signed": "You signed the document",
        "action.declined": "You declined",
        "task.phase_changed": "Phase changed to {to_phase}",
        "task.action_cancelled": "Request cancelled",
        "action.expired": "Request expired",
        "signing.rejected": "Your signature was not accepted: the request was no longer open",
        "decline.rejected": "Your decline was not accepted: the request was no longer open",
        "document.stamped": "The signed document",
        "approval_certificate": "Approval certificate ready",
        "sealed_document": "Sealed signed document ready",
        "reason": "Reason",
        "download_signed": "Download the signed document (PDF)",
        "download_approval_certificate": "Download the approval certificate (PDF)",
        "download_sealed_document": "Download the sealed document (PDF)",
        "signed_page": "Signed page of the document",
    },
    "nl": {
        "task.action_requested": "Handtekening gevraagd",
        "sign_document_requested": "Ondertekening van document gevraagd",
        "task.signed": "U heeft ondertekend",
        "document.signed": "U heeft het document ondertekend",
        "action.declined": "U heeft geweigerd",
        "task.phase_changed": "Fase gewijzigd naar {to_phase}",
        "task.action_cancelled": "Verzoek geannuleerd",
        "action.expired": "Verzoek verlopen",
        "signing.rejected": "Uw handtekening is niet aanvaard: het verzoek stond niet meer open",
        "decline.rejected": "Uw weigering is niet aanvaard: het verzoek stond niet meer open",
        "document.stamped": "Het ondertekende document",
        "approval_certificate": "Goedkeuringscertificaat beschikbaar",
        "sealed_document": "Verzegeld ondertekend document beschikbaar",
        "reason": "Reden",
        "download_signed": "Ondertekend document downloaden (PDF)",
        "download_approval_certificate": "Goedkeuringscertificaat downloaden (PDF)",
        "download_sealed_document": "Verzegeld document downloaden (PDF)",
        "signed_page": "Ondertekende pagina van het document",
    },
}


@dataclass
class Item:
    at: str
    title: str
    details: list[tuple[str, str]] = field(default_factory=list)
    image: tuple[str, str] | None = None  # (portal URL, alt text)
    link: tuple[str, str] | None = None  # (portal URL, label)
    action_id: str | None = None  # the action whose signed page `image` shows
    text: str = ""  # that page's text, to read beside the image
    written_in: str | None = None  # the language of staff's words in `details` (message, labels)


def _fields(data: dict, labels: dict[str, str]) -> list[tuple[str, str]]:
    values = data.get("fields") or {}
    return [
        (labels.get(name) or name.replace("_", " ").capitalize(), "✓" if value is True else str(value))
        for name, value in values.items()
        if value not in (None, "", False)
    ]


def present(
    entry: dict,
    language: str,
    field_labels: dict[str, dict[str, str]] | None = None,
    written_in: dict[str, str | None] | None = None,
) -> Item:
    """`field_labels`: per action id, the labels the contact saw for each field name; `written_in`: per action
    id, the language staff wrote its message and labels in, when the request said."""
    words = LABELS.get(language, LABELS["en"])
    kind, data = entry.get("kind", ""), entry.get("data") or {}
    action_id = data.get("action_id")
    item = Item(
        at=entry.get("at", ""), title=entry.get("summary") or kind, written_in=(written_in or {}).get(action_id or "")
    )
    if kind == "task.action_requested":
        item.title = words["sign_document_requested" if data.get("kind") == "sign_document" else kind]
        if data.get("message"):
            item.details.append(("", data["message"]))
    elif kind in ("task.signed", "document.signed"):
        item.title = words[kind]
        item.details = _fields(data, (field_labels or {}).get(action_id or "", {}))
    elif kind == "action.declined":
        item.title = words[kind]
        item.details = [(words["reason"], data.get("reason", ""))]
    elif kind == "task.phase_changed":
        item.title = words[kind].format(to_phase=phase_name(data.get("to_phase", ""), language))
    elif kind in ("task.action_cancelled", "action.expired", "signing.rejected", "decline.rejected"):
        item.title = words[kind]
    elif kind == "document.stamped" and action_id:
        item.title = words[kind]
        item.image = (f"/actions/{action_id}/signed-page.png", words["signed_page"])
        item.action_id = action_id
        item.link = (f"/actions/{action_id}/signed-document.pdf", words["download_signed"])
    elif kind == "signature.sealed" and action_id and data.get("kind") in ("approval_certificate", "sealed_document"):
        item.title = words[data["kind"]]
        item.link = (f"/actions/{action_id}/sealed/{data['kind']}.pdf", words[f"download_{data['kind']}"])
    return item
