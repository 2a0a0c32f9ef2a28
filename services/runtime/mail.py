"""Sending e-mail: one SMTP path for every service, set by `AKKOORD_SMTP_URL` and `AKKOORD_MAIL_FROM`.

`smtp://user:pass@host:587` sends over STARTTLS (required whenever the URL carries credentials, so a
password never crosses in clear), `smtps://host:465` over implicit TLS, and `smtp://host:port` without
credentials takes TLS when the server offers it (the local sink offers none). A send either succeeds or
raises `MailRefused` (permanent: a 5xx answer or an address that cannot be one — retrying changes nothing)
or `MailDeferred` (for now: the server is away or answered 4xx — try again later).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from typing import TYPE_CHECKING
from urllib.parse import unquote, urlsplit

import aiosmtplib

if TYPE_CHECKING:
    from services.runtime.config import ServiceSettings

# Where development mail goes when no AKKOORD_SMTP_URL is set: the sink `make run` starts (deploy/local/mailsink.py).
LOCAL_SINK_URL = "smtp://127.0.0.1:1025"
_SPACE = re.compile(r"\s+")


class MailRefused(Exception):
    """The mail can never be delivered as it is (5xx, or a malformed address)."""

    def __init__(self, reason: str, code: int | None = None):
        super().__init__(reason)
        self.reason, self.code = reason, code


class MailDeferred(Exception):
    """The mail could not be handed over now; the same send may succeed later."""

    def __init__(self, reason: str, code: int | None = None):
        super().__init__(reason)
        self.reason, self.code = reason, code


@dataclass(frozen=True)
class SmtpTarget:
    hostname: str
    port: int
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    use_tls: bool = False  # implicit TLS (smtps)
    start_tls: bool | None = None  # True: required; None: if the server offers it

    @classmethod
    def parse(cls, url: str) -> SmtpTarget:
        parts = urlsplit(url)
        if parts.scheme not in ("smtp", "smtps") or not parts.hostname:
            raise ValueError("AKKOORD_SMTP_URL must look like smtp://user:password@host:587 or smtps://host:465")
        try:
            port = parts.port
        except ValueError as exc:
            raise ValueError("AKKOORD_SMTP_URL has a port that is not a number") from exc
        implicit = parts.scheme == "smtps"
        username = unquote(parts.username) if parts.username else None
        password = unquote(parts.password) if parts.password else None
        return cls(
            hostname=parts.hostname,
            port=port or (465 if implicit else 587),
            username=username,
            password=password,
            use_tls=implicit,
            start_tls=False if implicit else (True if username else None),
        )

    def __str__(self) -> str:  # for logs: never the credentials
        return f"{'smtps' if self.use_tls else 'smtp'}://{self.hostname}:{self.port}"


def one_line(text: str, limit: int = 200) -> str:
    """A header value from free text (a task title, a name): no line breaks can reach the header block."""
    flat = _SPACE.sub(" ", text).strip()
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def address(email: str, name: str | None = None) -> Address:
    """A recipient as a header object; an address that cannot be one is refused before any SMTP talk."""
    try:
        parsed = Address(display_name=one_line(name or ""), addr_spec=email.strip())
    except (ValueError, IndexError) as exc:
        raise MailRefused(f"not a valid e-mail address: {email!r}") from exc
    if "@" not in parsed.addr_spec or not parsed.domain or not parsed.username or _SPACE.search(email.strip()):
        raise MailRefused(f"not a valid e-mail address: {email!r}")
    return parsed


def compose(
    *,
    sender: str,
    to: Address | str,
    subject: str,
    text: str,
    html: str | None = None,
    reply_to: str | None = None,
    headers: dict[str, str] | None = None,
    attachments: tuple[tuple[str, str, bytes], ...] = (),
) -> EmailMessage:
    """A multipart mail (plain text, and HTML when given) with every header set through EmailMessage."""
    message = EmailMessage()
    message["From"] = sender
    message["To"] = to
    message["Subject"] = one_line(subject, 250)
    message["Date"] = formatdate(localtime=False)
    message["Message-ID"] = make_msgid(domain=sender.rpartition("@")[2].strip("> ") or "akkoord")
    if reply_to:
        message["Reply-To"] = reply_to
    for name, value in (headers or {}).items():
        message[name] = one_line(value, 500)
    message.set_content(text)
    if html is not None:
        message.add_alternative(html, subtype="html")
    for filename, media_type, data in attachments:
        maintype, _, subtype = media_type.partition("/")
        message.add_attachment(data, maintype=maintype, subtype=subtype, filename=filename)
    return message


class SmtpSender:
    """Hands one message at a time to the configured SMTP server."""

    def __init__(self, target: SmtpTarget, sender: str, timeout: float = 20.0):
        self.target, self.sender, self.timeout = target, sender, timeout

    @classmethod
    def from_settings(cls, settings: ServiceSettings, timeout: float = 20.0) -> SmtpSender:
        return cls(SmtpTarget.parse(settings.mail_url), settings.mail_from, timeout)

    async def send(self, message: EmailMessage) -> None:
        t = self.target
        try:
            await aiosmtplib.send(
                message,
                hostname=t.hostname,
                port=t.port,
                username=t.username,
                password=t.password,
                use_tls=t.use_tls,
                start_tls=t.start_tls,
                timeout=self.timeout,
            )
        except aiosmtplib.SMTPRecipientsRefused as exc:
            codes = [r.code for r in exc.recipients]
            reason = "; ".join(f"{r.recipient}: {r.code} {r.message}" for r in exc.recipients)[:500]
            if codes and all(c >= 500 for c in codes):
                raise MailRefused(f"refused by {t}: {reason}", codes[0]) from None
            raise MailDeferred(f"deferred by {t}: {reason}", codes[0] if codes else None) from None
        except aiosmtplib.SMTPAuthenticationError as exc:
            # Our configuration, not the mail: worth trying again once someone fixes the credentials.
            raise MailDeferred(f"{t} refused the credentials: {exc.code} {exc.message}"[:500], exc.code) from None
        except aiosmtplib.SMTPResponseException as exc:
            text = f"{t} answered {exc.code} {exc.message}"[:500]
            if exc.code >= 500:
                raise MailRefused(text, exc.code) from None
            raise MailDeferred(text, exc.code) from None
        except (aiosmtplib.SMTPException, OSError, TimeoutError) as exc:
            raise MailDeferred(f"could not reach {t}: {type(exc).__name__}: {exc}"[:500]) from None
