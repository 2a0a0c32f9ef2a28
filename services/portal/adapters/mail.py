"""Sending e-mail: SMTP in production; in development a directory of .eml files you can read."""

from __future__ import annotations

import asyncio
import smtplib
import ssl
from email.message import EmailMessage
from email.utils import make_msgid
from pathlib import Path


def _message(sender: str, to: str, subject: str, body: str) -> EmailMessage:
    message = EmailMessage()
    message["From"], message["To"], message["Subject"] = sender, to, subject
    message["Message-ID"] = make_msgid(domain="akkoord")
    message.set_content(body)
    return message


class FileOutbox:
    """Development mail: each message is written as <directory>/<recipient>-<id>.eml."""

    def __init__(self, directory: Path, sender: str):
        self.directory = directory
        self.sender = sender

    async def send(self, to: str, subject: str, body: str) -> None:
        message = _message(self.sender, to, subject, body)
        name = f"{to.replace('@', '_at_')}-{message['Message-ID'].strip('<>').split('@')[0]}.eml"

        def write() -> None:
            self.directory.mkdir(parents=True, exist_ok=True)
            (self.directory / name).write_bytes(bytes(message))

        await asyncio.to_thread(write)


class SmtpMailer:
    def __init__(self, host: str, port: int, username: str | None, password: str | None, sender: str):
        self.host, self.port, self.username, self.password, self.sender = host, port, username, password, sender

    async def send(self, to: str, subject: str, body: str) -> None:
        message = _message(self.sender, to, subject, body)

        def deliver() -> None:
            with smtplib.SMTP(self.host, self.port, timeout=15) as smtp:
                smtp.starttls(context=ssl.create_default_context())
                if self.username:
                    smtp.login(self.username, self.password or "")
                smtp.send_message(message)

        await asyncio.to_thread(deliver)
