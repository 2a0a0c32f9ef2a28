"""Sending the second factor's codes through the system's one SMTP path (services/runtime/mail.py)."""

from __future__ import annotations

from typing import Protocol

from contracts.errors import Invalid, Unavailable
from services.runtime.mail import MailDeferred, MailRefused, SmtpSender, address, compose


class Mailer(Protocol):
    async def send(self, to: str, subject: str, body: str) -> None: ...


class SmtpMailer:
    def __init__(self, sender: SmtpSender):
        self.sender = sender

    async def send(self, to: str, subject: str, body: str) -> None:
        try:
            await self.sender.send(compose(sender=self.sender.sender, to=address(to), subject=subject, text=body))
        except MailRefused as refused:
            raise Invalid(
                "We cannot send a code to your e-mail address; please contact the sender of your link.",
                code="mail_refused",
            ) from refused
        except MailDeferred as deferred:
            raise Unavailable(
                "We could not send the code just now; please try again in a minute.", code="mail_deferred"
            ) from deferred
