"""Mail to staff and contacts from the console (invitations, password resets, portal links), through the
system's one SMTP path (services/runtime/mail.py: AKKOORD_SMTP_URL, the local sink in development)."""

from __future__ import annotations

from typing import Protocol

from services.runtime.mail import MailDeferred, MailRefused, SmtpSender, address, compose


class MailNotSent(Exception):
    """The mail could not be handed over (refused, or the server is away); `reason` says which."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


class Mailer(Protocol):
    async def send(self, to: str, subject: str, body: str) -> None: ...


class SmtpMailer:
    def __init__(self, sender: SmtpSender):
        self.sender = sender

    async def send(self, to: str, subject: str, body: str) -> None:
        try:
            await self.sender.send(compose(sender=self.sender.sender, to=address(to), subject=subject, text=body))
        except (MailRefused, MailDeferred) as failed:
            raise MailNotSent(failed.reason) from None
