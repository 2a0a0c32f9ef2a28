"""Refusals as pages: a handler's error, mapped by its type and code (never its English text) to the words
the contact reads in their language."""

from __future__ import annotations

from fastapi import Request
from fastapi.responses import Response
from pymongo.errors import ConnectionFailure

from contracts.errors import Forbidden, Invalid
from services.portal import i18n
from services.portal.domain import SessionContext, csrf_matches
from services.portal.entrypoints.deps import RateLimited
from services.portal.entrypoints.rendering import message, preferred_language
from services.portal.entrypoints.sign_form import ERROR_MESSAGES
from services.runtime import problems

# (form field, error code) -> catalogue key; a field's own label is filled into "{label}".
FIELD_MESSAGES = {"too_long": "field_too_long", "required": "field_required"}
OTHER_MESSAGES = {
    ("consent", "required"): "consent_required",
    ("reason", "required"): "reason_required",
    ("reason", "too_long"): "reason_too_long",
}
# A Conflict's code -> the sentence on the page; anything else closed the action some other way.
CONFLICT_MESSAGES = {
    "already_signed": "already_signed",
    "document_changed": "document_changed",
    "consent_changed": "consent_changed",
    "cancelled": "action_cancelled",
    "expired": "action_expired",
    "otp_locked": "otp_locked",
    "task_changed": "task_changed",
}


def form_errors(exc: Invalid, action: dict, language: str, signature_kind: str = "typed") -> dict[str, str]:
    """The refusal's errors, keyed by form field and worded in the contact's language."""
    t = i18n.messages(language)
    labels = {f["name"]: f["label"] for f in action.get("fields", [])}
    errors = {}
    for error in exc.extra.get("errors", []):
        name, code = error["field"].removeprefix("fields."), error.get("code", "invalid")
        if name in labels:
            errors[name] = t[FIELD_MESSAGES.get(code, "field_required")].format(label=labels[name])
        elif name == "signature":
            errors[name] = t[ERROR_MESSAGES.get(signature_kind, "signature_required")]
        elif (name, code) in OTHER_MESSAGES:
            errors[name] = t[OTHER_MESSAGES[name, code]]
        else:
            errors[name] = error["message"]
    # The summary lists the problems in the order the form asks: fields, signature, consent.
    order = [*labels, "signature", "consent", "reason"]
    return dict(sorted(errors.items(), key=lambda kv: order.index(kv[0]) if kv[0] in order else len(order)))


def conflict_message(code: str | None) -> str:
    return CONFLICT_MESSAGES.get(code or "", "not_open")


def check_form_csrf(ctx: SessionContext, token: str | None) -> None:
    if not csrf_matches(ctx.csrf_token, token):
        raise Forbidden("Missing or wrong CSRF token.")


async def rate_limited(request: Request, exc: RateLimited) -> Response:
    """429 as a page for browsers, as problem details for the API; both say when to retry."""
    response: Response
    if request.url.path.startswith("/api/") or "text/html" not in request.headers.get("accept", ""):
        response = problems.problem(429, "Too many requests", str(exc))
    else:
        response = message(preferred_language(request), 429, "too_many")
    response.headers["Retry-After"] = str(exc.retry_after)
    return response


async def unavailable(request: Request, exc: ConnectionFailure) -> Response:
    """The database is away for a moment: problem details for the API, a page in the browser's language for
    browsers; both say when to retry."""
    answer = problems.unavailable(request, exc)
    if request.url.path.startswith("/api/") or "text/html" not in request.headers.get("accept", ""):
        return answer
    response = message(preferred_language(request), 503, "unavailable_title", "unavailable")
    response.headers["Retry-After"] = answer.headers["Retry-After"]
    return response
