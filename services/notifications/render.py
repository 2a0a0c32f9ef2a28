"""A decided notification as the recipient reads it: subject, plain text and HTML, in their language.

The layout lives in templates/ (Jinja2, HTML autoescaped), the words in locale/<lang>/LC_MESSAGES/
notifications.po (gettext catalogues read with Babel). Values from tasks (titles, names, reasons) are
put into the words as text, so the HTML template escapes them with everything else."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, tzinfo
from functools import cache
from pathlib import Path

from babel.dates import format_datetime
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from services.notifications.domain import Brand, Notification
from services.runtime.i18n import DEFAULT_ZONE, language_of, read_catalogue, zone_of

HERE = Path(__file__).parent
DATE_PATTERNS = {"nl": "EEEE d MMMM y 'om' HH:mm", "en": "EEEE d MMMM y 'at' HH:mm"}
_env = Environment(
    loader=FileSystemLoader(HERE / "templates"),
    autoescape=select_autoescape(["html"]),
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)


@cache
def catalogue(language: str) -> dict[str, str]:
    return read_catalogue(HERE / "locale" / language / "LC_MESSAGES" / "notifications.po", language)


@dataclass(frozen=True)
class Rendered:
    subject: str
    text: str
    html: str


def when(value: object, language: str, in_zone: tzinfo = DEFAULT_ZONE) -> str:
    if not isinstance(value, datetime):
        return ""
    local = value.astimezone(in_zone)
    return f"{format_datetime(local, DATE_PATTERNS[language], locale=language)} {local.tzname()}"


def render(notification: Notification, brand: Brand, *, link: str | None, attached: bool = False) -> Rendered:
    language = language_of(notification.recipient.language)
    t, f, kind, in_zone = catalogue(language), notification.facts, notification.kind, zone_of(brand.time_zone)
    document = f.get("document_title") or t["a_document"]
    values = {
        "tenant": brand.name,
        "title": f.get("task_title") or "",
        "name": notification.recipient.name,
        "what": t["what_sign_document"].format(document=document)
        if f.get("action_kind") == "sign_document"
        else t["what_sign_task"],
        "deadline": when(f.get("expires_at"), language, in_zone),
        "reason": f.get("reason") or t["no_reason"],
        "contact": f.get("contact_name") or f.get("contact_email") or "",
        "signer": f.get("signer") or "",
        "signed_at": when(f.get("signed_at"), language, in_zone),
        "number": f.get("reminder_number") or 1,
    }
    subject_key = f"{kind}_subject_update" if kind == "action_requested" and f.get("replaces") else f"{kind}_subject"
    paragraphs = [t[f"{kind}_body"].format(**values)]
    if values["deadline"] and kind in ("action_requested", "action_reminder"):
        paragraphs.append(t["deadline"].format(**values))
    if attached:
        paragraphs.append(t["proof_attached"])
    subject = t[subject_key].format(**values)
    context = {
        "t": t,
        "lang": language,
        "brand": brand,
        "subject": subject,
        "greeting": t["greeting_named" if values["name"] else "greeting"].format(**values),
        "paragraphs": paragraphs,
        "note": f.get("message") if kind in ("action_requested", "action_reminder") else None,
        "button": t[f"{kind}_button"] if link else None,
        "link": link,
        "footer": t["footer_staff" if kind.startswith("staff_") else "footer_contact"].format(**values),
    }
    return Rendered(
        subject=subject,
        text=_env.get_template("mail.txt").render(context),
        html=_env.get_template("mail.html").render(context),
    )
