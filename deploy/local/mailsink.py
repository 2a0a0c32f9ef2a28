"""The local mail sink of `make run`: an SMTP server on loopback that keeps every mail, and an inbox page.

`python -m deploy.local.mailsink --dir .data/mail --smtp-port 1025 --http-port 8025`: services send to
smtp://127.0.0.1:1025 (no TLS, no login: loopback only), each mail is stored as an .eml file, and
http://127.0.0.1:8025/ lists them — subject, recipient, date — with each mail's HTML, its plain text and its
links, so a newcomer can open the customer's invitation and click through to the portal. A development
tool only: it never runs in production.
"""

from __future__ import annotations

import argparse
import asyncio
import re
import time
import uuid
from email import message_from_bytes, policy
from email.message import EmailMessage
from email.utils import parsedate_to_datetime
from html.parser import HTMLParser
from pathlib import Path

import uvicorn
from aiosmtpd.smtp import SMTP
from fastapi import FastAPI, HTTPException
from fastapi.responses import HTMLResponse, Response
from jinja2 import Environment, FileSystemLoader, select_autoescape

_ID = re.compile(r"^[0-9]{13}-[0-9a-f]{32}$")


class Store:
    def __init__(self, directory: Path):
        self.directory = directory
        directory.mkdir(parents=True, exist_ok=True)

    def add(self, recipients: list[str], content: bytes) -> str:
        mail_id = f"{int(time.time() * 1000):013d}-{uuid.uuid4().hex}"
        # The envelope's recipients (Bcc included) are kept as a header the sink adds in front.
        head = "".join(f"X-Sink-Rcpt-To: {r}\r\n" for r in recipients).encode()
        (self.directory / f"{mail_id}.eml").write_bytes(head + content)
        return mail_id

    def ids(self) -> list[str]:
        return sorted((p.stem for p in self.directory.glob("*.eml") if _ID.match(p.stem)), reverse=True)

    def get(self, mail_id: str) -> EmailMessage:
        if not _ID.match(mail_id) or not (path := self.directory / f"{mail_id}.eml").exists():
            raise HTTPException(404, "no such mail")
        return message_from_bytes(path.read_bytes(), policy=policy.default)  # type: ignore[return-value]


class Handler:
    def __init__(self, store: Store):
        self.store = store

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 (aiosmtpd's name)
        self.store.add(list(envelope.rcpt_tos), envelope.original_content or envelope.content)
        return "250 Message accepted for delivery"


class _Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.links: list[str] = []

    def handle_starttag(self, tag, attrs):
        href = dict(attrs).get("href")
        if tag == "a" and href and href not in self.links:
            self.links.append(href)


def part(message: EmailMessage, subtype: str) -> str:
    body = message.get_body(preferencelist=(subtype,))
    return body.get_content() if body is not None else ""


def summary(store: Store, mail_id: str) -> dict:
    message = store.get(mail_id)
    try:
        sent = parsedate_to_datetime(str(message["Date"]))
        date = sent.strftime("%Y-%m-%d %H:%M:%S ") + (sent.strftime("%z") if sent.tzinfo else "UTC")
    except (TypeError, ValueError):
        date = ""
    return {
        "id": mail_id,
        "subject": str(message["Subject"] or "(no subject)").strip(),
        "to": ", ".join(message.get_all("X-Sink-Rcpt-To", [])) or str(message["To"]),
        "from": str(message["From"] or ""),
        "reply_to": str(message["Reply-To"] or ""),
        "date": date,
    }


_env = Environment(
    loader=FileSystemLoader(Path(__file__).parent / "mailsink_templates"), autoescape=select_autoescape(default=True)
)


def page(template: str, title: str, **context) -> HTMLResponse:
    return HTMLResponse(_env.get_template(template).render(title=title, **context))


def inbox_app(store: Store) -> FastAPI:
    app = FastAPI(title="Akkoord mail sink", docs_url=None, redoc_url=None, openapi_url=None)

    @app.get("/readyz")
    async def ready() -> dict:
        return {"status": "ready"}

    @app.get("/")
    async def inbox() -> HTMLResponse:
        return page("inbox.html", "Inbox", mails=[summary(store, i) for i in store.ids()])

    @app.get("/api/messages")
    async def messages() -> list[dict]:
        out = []
        for mail_id in store.ids():
            message = store.get(mail_id)
            parser = _Links()
            parser.feed(part(message, "html"))
            out.append({**summary(store, mail_id), "text": part(message, "plain"), "links": parser.links})
        return out

    @app.get("/mail/{mail_id}")
    async def mail(mail_id: str) -> HTMLResponse:
        message = store.get(mail_id)
        html, parser = part(message, "html"), _Links()
        parser.feed(html)
        m = summary(store, mail_id)
        return page(
            "mail.html", m["subject"], m=m, links=parser.links, has_html=bool(html), text=part(message, "plain")
        )

    @app.get("/mail/{mail_id}/html")
    async def mail_html(mail_id: str) -> Response:
        html = part(store.get(mail_id), "html")
        # Links open in a new tab; the mail itself runs no script and loads no remote content but images.
        html = html.replace("<head>", '<head><base target="_blank">', 1)
        policy = "default-src 'none'; img-src https: data:; style-src 'unsafe-inline'"
        return HTMLResponse(html, headers={"Content-Security-Policy": policy})

    return app


async def serve(directory: Path, smtp_port: int, http_port: int, host: str = "127.0.0.1") -> None:
    store = Store(directory)
    loop = asyncio.get_running_loop()
    smtp = await loop.create_server(lambda: SMTP(Handler(store), hostname="akkoord-sink", loop=loop), host, smtp_port)
    server = uvicorn.Server(uvicorn.Config(inbox_app(store), host=host, port=http_port, log_level="warning"))
    print(
        f"mail sink: SMTP on {host}:{smtp_port}, inbox on http://{host}:{http_port}/ (mails in {directory})", flush=True
    )
    try:
        await server.serve()
    finally:
        smtp.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dir", type=Path, default=Path(".data/mail"))
    parser.add_argument("--smtp-port", type=int, default=1025)
    parser.add_argument("--http-port", type=int, default=8025)
    args = parser.parse_args()
    asyncio.run(serve(args.dir, args.smtp_port, args.http_port))


if __name__ == "__main__":
    main()
