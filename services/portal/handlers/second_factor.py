"""Optional second factor before signing: a one-time code e-mailed to the contact, bound to the session."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from contracts import utcnow
from contracts.errors import Conflict, Invalid, NotFound
from services.portal import domain, i18n
from services.portal.adapters.mongo import PortalStore
from services.portal.domain import SessionContext

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


class Mailer(Protocol):
    async def send(self, to: str, subject: str, body: str) -> None: ...


@dataclass(frozen=True)
class CodeSent:
    sent_to: str
    expires_at: datetime


class SecondFactor:
    def __init__(self, store: PortalStore, mailer: Mailer, tenants: str, ttl: timedelta, max_attempts: int):
        self.store = store
        self.mailer = mailer
        # "*" asks every tenant's contacts for a code; otherwise a comma-separated list of tenant ids.
        self.everyone = tenants.strip() == "*"
        self.tenants = {t.strip() for t in tenants.split(",") if t.strip()}
        self.ttl = ttl
        self.max_attempts = max_attempts

    def required(self, tenant_id: str) -> bool:
        return self.everyone or tenant_id in self.tenants

    def status(self, ctx: SessionContext) -> dict:
        return {"required": self.required(ctx.tenant_id), "verified": ctx.auth_method == "magic_link+otp"}

    def ensure(self, ctx: SessionContext, action: dict) -> None:
        """Before anything is shown or done for `action` (sign, decline, the document): the code, when the
        tenant asks for one, and an action not locked by wrong codes."""
        if not self.required(ctx.tenant_id):
            return
        self._ensure_unlocked(action)
        domain.ensure_second_factor(True, ctx)

    def _ensure_unlocked(self, action: dict) -> None:
        if action.get("otp_failures", 0) >= self.max_attempts:
            raise Conflict(
                "Too many wrong codes were entered for this request, so it is locked. Ask the sender "
                "for a new request.",
                code="otp_locked",
            )

    async def _action(self, ctx: SessionContext, action_id: str) -> dict:
        action = await self.store.action(ctx.tenant_id, action_id)
        if action is None or action["contact_id"] != ctx.contact_id:
            raise NotFound("There is no such action for you.")
        self._ensure_unlocked(action)
        return action

    async def send(self, ctx: SessionContext, action_id: str) -> CodeSent:
        await self._action(ctx, action_id)
        contact = await self.store.contact(ctx.tenant_id, ctx.contact_id) or {}
        email = contact.get("email")
        if not email:
            raise Conflict("We do not know your e-mail address yet; please try again in a moment.")
        code, expires_at = domain.new_otp_code(), utcnow() + self.ttl
        await self.store.set_pending_otp(
            ctx.session_id, {"hash": domain.otp_hash(ctx.session_id, code), "expires_at": expires_at}
        )
        subject, body = MAIL[i18n.language_of(ctx.language)]
        minutes = int(self.ttl.total_seconds() // 60)
        await self.mailer.send(email, subject.format(code=code), body.format(code=code, minutes=minutes))
        return CodeSent(sent_to=domain.mask_email(email), expires_at=expires_at)

    async def verify(self, ctx: SessionContext, action_id: str, code: str) -> None:
        """Wrong codes count against the action, across codes and sessions: a new code or a new link does not
        reset the count, and past `max_attempts` the action is locked (a new request from staff is needed)."""
        await self._action(ctx, action_id)
        try:
            domain.check_otp(await self.store.pending_otp(ctx.session_id), ctx.session_id, code or "", utcnow())
        except Invalid as refused:
            if (
                refused.extra.get("code") == "otp_wrong"
                and await self.store.count_wrong_code(ctx.tenant_id, action_id) >= self.max_attempts
            ):
                self._ensure_unlocked({"otp_failures": self.max_attempts})
            raise
        await self.store.mark_second_factor(ctx.session_id)
