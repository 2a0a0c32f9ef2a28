"""Optional second factor before signing: a one-time code e-mailed to the contact, bound to the session."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from contracts.errors import Conflict, Invalid, NotFound
from services.portal import domain, i18n
from services.portal.domain import SessionContext
from services.portal.unit_of_work import UnitOfWork

MAIL = {
    "en": (
        "Your Akkoord code: {code}",
        "Your code to sign in Akkoord is {code}.\n\nIt works for {minutes} minutes, only in the browser where "
        "you asked for it. If you did not ask for it, you can ignore this e-mail.",
    ),
    "nl": (
        "Uw Akkoord-code: {code}",
        "Uw code om te ondertekenen in Akkoord is {code}.\n\nDe code werkt {minutes} minuten, alleen in de "
        "browser waarin u hem heeft aangevraagd. Heeft u hem niet aangevraagd? Dan kunt u deze e-mail negeren.",
    ),
}


@dataclass(frozen=True)
class CodeSent:
    sent_to: str
    expires_at: datetime


def required(uow: UnitOfWork, tenant_id: str) -> bool:
    # "*" asks every tenant's contacts for a code; otherwise a comma-separated list of tenant ids.
    tenants = uow.settings.otp_tenants
    return tenants.strip() == "*" or tenant_id in {t.strip() for t in tenants.split(",") if t.strip()}


def status(uow: UnitOfWork, ctx: SessionContext) -> dict:
    return {"required": required(uow, ctx.tenant_id), "verified": ctx.auth_method == "magic_link+otp"}


def ensure(uow: UnitOfWork, ctx: SessionContext, action: dict) -> None:
    """Before anything is shown or done for `action` (sign, decline, the document): the code, when the
    tenant asks for one, and an action not locked by wrong codes."""
    if not required(uow, ctx.tenant_id):
        return
    _ensure_unlocked(uow, action)
    domain.ensure_second_factor(True, ctx)


def _ensure_unlocked(uow: UnitOfWork, action: dict) -> None:
    if action.get("otp_failures", 0) >= uow.settings.otp_max_attempts:
        raise Conflict(
            "Too many wrong codes were entered for this request, so it is locked. Ask the sender for a new request.",
            code="otp_locked",
        )


async def _action(uow: UnitOfWork, ctx: SessionContext, action_id: str) -> dict:
    action = await uow.store.action(ctx.tenant_id, action_id)
    if action is None or action["contact_id"] != ctx.contact_id:
        raise NotFound("There is no such action for you.")
    _ensure_unlocked(uow, action)
    return action


async def send(uow: UnitOfWork, ctx: SessionContext, action_id: str) -> CodeSent:
    await _action(uow, ctx, action_id)
    contact = await uow.store.contact(ctx.tenant_id, ctx.contact_id) or {}
    email = contact.get("email")
    if not email:
        raise Conflict("We do not know your e-mail address yet; please try again in a moment.")
    minutes = uow.settings.otp_minutes
    code, expires_at = domain.new_otp_code(), uow.clock() + timedelta(minutes=minutes)
    await uow.store.set_pending_otp(
        ctx.session_id, {"hash": domain.otp_hash(ctx.session_id, code), "expires_at": expires_at}
    )
    subject, body = MAIL[i18n.language_of(ctx.language)]
    await uow.mailer.send(email, subject.format(code=code), body.format(code=code, minutes=minutes))
    return CodeSent(sent_to=domain.mask_email(email), expires_at=expires_at)


async def verify(uow: UnitOfWork, ctx: SessionContext, action_id: str, code: str) -> None:
    """Wrong codes count against the action, across codes and sessions: a new code or a new link does not
    reset the count, and past `otp_max_attempts` the action is locked (a new request from staff is needed)."""
    await _action(uow, ctx, action_id)
    try:
        domain.check_otp(await uow.store.pending_otp(ctx.session_id), ctx.session_id, code or "", uow.clock())
    except Invalid as refused:
        if (
            refused.extra.get("code") == "otp_wrong"
            and await uow.store.count_wrong_code(ctx.tenant_id, action_id) >= uow.settings.otp_max_attempts
        ):
            _ensure_unlocked(uow, {"otp_failures": uow.settings.otp_max_attempts})
        raise
    await uow.store.mark_second_factor(ctx.session_id)
