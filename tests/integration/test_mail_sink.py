"""The local mail sink of `make run`: it takes every mail over SMTP and shows it on an inbox page a person can read."""

from __future__ import annotations

import subprocess
import sys
import time

import httpx
import pytest

from deploy.local.infra import free_port
from services.runtime.mail import SmtpSender, SmtpTarget, address, compose


@pytest.fixture
def sink(tmp_path):
    smtp_port, http_port = free_port(), free_port()
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "deploy.local.mailsink",
            "--dir",
            str(tmp_path / "mail"),
            "--smtp-port",
            str(smtp_port),
            "--http-port",
            str(http_port),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    inbox = f"http://127.0.0.1:{http_port}"
    deadline = time.monotonic() + 20
    while True:
        assert proc.poll() is None, proc.stdout.read().decode()
        try:
            if httpx.get(f"{inbox}/readyz", timeout=1).status_code == 200:
                break
        except httpx.HTTPError:
            pass
        assert time.monotonic() < deadline, "the sink did not start"
        time.sleep(0.1)
    yield f"smtp://127.0.0.1:{smtp_port}", inbox, tmp_path / "mail"
    proc.terminate()
    proc.wait(10)


async def test_a_mail_sent_to_the_sink_is_listed_with_its_subject_recipient_html_text_and_links(sink):
    smtp_url, inbox, directory = sink
    link = "http://127.0.0.1:8000/login?token=abc.def"
    await SmtpSender(SmtpTarget.parse(smtp_url), "Akkoord <no-reply@akkoord.test>").send(
        compose(
            sender="Bos <no-reply@akkoord.test>",
            to=address("jan@example.nl", "Jan"),
            subject="Bos asks <you>",
            text=f"Open {link}",
            html=f'<html><head></head><body><a href="{link}">Review &amp; sign</a></body></html>',
        )
    )

    async with httpx.AsyncClient(base_url=inbox) as browser:
        listing = (await browser.get("/")).text
        assert "Bos asks &lt;you&gt;" in listing and "jan@example.nl" in listing
        [mail] = (await browser.get("/api/messages")).json()
        assert mail["links"] == [link] and link in mail["text"]
        page = (await browser.get(f"/mail/{mail['id']}")).text
        assert f'<a href="{link}">' in page.replace("&amp;", "&") and f"/mail/{mail['id']}/html" in page
        html = await browser.get(f"/mail/{mail['id']}/html")
        assert "Review &amp; sign" in html.text and "default-src 'none'" in html.headers["content-security-policy"]
        assert (await browser.get("/mail/../../etc/passwd")).status_code == 404
    assert len(list(directory.glob("*.eml"))) == 1, "kept as a file, so the inbox survives a restart"
