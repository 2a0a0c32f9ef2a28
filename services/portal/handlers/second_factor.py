"""Optional second factor before signing: a one-time code e-mailed to the contact, bound to the session."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from contracts import utcnow
from contracts.errors import Conflict, Invalid
from services.portal import domain, i18n
from services.portal.adapters.mongo import PortalStore
from services.portal.domain import SessionContext

MAIL = {
    "en": ("Your Akkoord code: {code}",
           "Your code to sign in Akkoord is {code}.\n\nIt works for {minutes} minutes, only in the browser where "
           "you asked for it. If you did not ask for it, you can ignore this e-mail."),
    "nl": ("Uw Akkoord-code: {code}",
           "Uw code om te ondertekenen in Akkoord is {code}.\n\nDe code werkt {minutes} minuten, alleen in de "
           "browser waarin u hem heeft aangevraagd. Heeft u hem niet aangevraagd? Dan kunt u deze e-mail negeren."),
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

    async def send(self, ctx: SessionContext) -> CodeSent:
        contact = await self.store.contact(ctx.tenant_id, ctx.contact_id) or {}
        email = contact.get("email")
        if not email:
            raise Conflict("We do not know your e-mail address yet; please try again in a moment.")
        code, expires_at = domain.new_otp_code(), utcnow() + self.ttl
        await self.store.set_pending_otp(ctx.session_id, {"hash": domain.otp_hash(ctx.session_id, code),
                                                          "expires_at": expires_at})
        subject, body = MAIL[i18n.language_of(ctx.language)]
        minutes = int(self.ttl.total_seconds() // 60)
        await self.mailer.send(email, subject.format(code=code), body.format(code=code, minutes=minutes))
        return CodeSent(sent_to=domain.mask_email(email), expires_at=expires_at)

    async def verify(self, ctx: SessionContext, code: str) -> None:
        pending = await self.store.spend_otp_attempt(ctx.session_id, self.max_attempts)
        if pending is None:
            raise Invalid("Ask for a new code.", code="otp_not_sent",
                          errors=[{"field": "code", "message": "Ask for a new code."}])
        domain.check_otp(pending, ctx.session_id, code or "", utcnow())
        await self.store.mark_second_factor(ctx.session_id)
