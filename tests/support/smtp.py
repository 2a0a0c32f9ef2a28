"""A real SMTP server on loopback for tests (aiosmtpd, in the test process): it receives what services send.

`refuse` makes it answer a recipient with a permanent 550, and `stop()`/`start()` take it away and back
on the same port, as an outage would.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from email import message_from_bytes, policy
from email.message import EmailMessage

from aiosmtpd.controller import Controller

from deploy.local.infra import free_port


@dataclass
class Received:
    mail_from: str
    rcpt_tos: list[str]
    message: EmailMessage

    @property
    def to(self) -> str:
        return self.rcpt_tos[0]

    @property
    def subject(self) -> str:
        return str(self.message["Subject"]).strip()  # a folded header may start on its second line

    def part(self, subtype: str) -> str:
        body = self.message.get_body(preferencelist=(subtype,))
        return body.get_content() if body is not None else ""

    @property
    def text(self) -> str:
        return self.part("plain")

    @property
    def html(self) -> str:
        return self.part("html")


class Handler:
    def __init__(self) -> None:
        self.received: list[Received] = []
        self.refused: set[str] = set()
        self.refusals: list[str] = []
        self.lock = threading.Lock()

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):  # noqa: N802 (aiosmtpd's name)
        if address.lower() in self.refused:
            with self.lock:
                self.refusals.append(address)
            return "550 5.1.1 No such user here"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):  # noqa: N802
        message = message_from_bytes(envelope.content, policy=policy.default)
        with self.lock:
            self.received.append(Received(envelope.mail_from, list(envelope.rcpt_tos), message))  # type: ignore[arg-type]
        return "250 Message accepted"


class SmtpServer:
    def __init__(self, port: int | None = None, handler: Handler | None = None):
        self.port = port or free_port()
        self.handler = handler or Handler()
        self.controller: Controller | None = None

    @property
    def url(self) -> str:
        return f"smtp://127.0.0.1:{self.port}"

    def start(self) -> SmtpServer:
        self.controller = Controller(self.handler, hostname="127.0.0.1", port=self.port)
        self.controller.start()
        return self

    def stop(self) -> None:
        if self.controller is not None:
            self.controller.stop()
            self.controller = None

    def refuse(self, address: str) -> None:
        self.handler.refused.add(address.lower())

    def to(self, address: str) -> list[Received]:
        with self.handler.lock:
            return [r for r in self.handler.received if address.lower() in (a.lower() for a in r.rcpt_tos)]

    def refusals_of(self, address: str) -> int:
        with self.handler.lock:
            return sum(1 for a in self.handler.refusals if a.lower() == address.lower())
