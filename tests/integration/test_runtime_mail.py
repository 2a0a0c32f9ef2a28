"""The one SMTP path every service sends mail through, against a real SMTP server on loopback."""

from __future__ import annotations

import pytest

from deploy.local.infra import free_port
from services.runtime.mail import MailDeferred, MailRefused, SmtpSender, SmtpTarget, address, compose
from tests.support.smtp import SmtpServer


@pytest.fixture
def smtp():
    server = SmtpServer().start()
    yield server
    server.stop()


def sender_for(url: str) -> SmtpSender:
    return SmtpSender(SmtpTarget.parse(url), "Akkoord <no-reply@akkoord.test>", timeout=5)


def test_the_url_says_how_to_reach_the_server_and_never_shows_the_password():
    starttls = SmtpTarget.parse("smtp://mailer:p%40ss@mail.example.com:587")
    assert (starttls.hostname, starttls.port, starttls.username, starttls.password) == (
        "mail.example.com",
        587,
        "mailer",
        "p@ss",
    )
    assert starttls.start_tls is True and not starttls.use_tls, "credentials never cross in clear"
    implicit = SmtpTarget.parse("smtps://mail.example.com")
    assert implicit.use_tls and implicit.port == 465
    assert SmtpTarget.parse("smtp://127.0.0.1:1025").start_tls is None
    assert "p@ss" not in repr(starttls) and "p@ss" not in str(starttls)
    with pytest.raises(ValueError, match="AKKOORD_SMTP_URL"):
        SmtpTarget.parse("http://mail.example.com")


async def test_a_mail_arrives_with_its_text_and_html_and_a_title_with_a_newline_adds_no_header(smtp):
    message = compose(
        sender="Akkoord <no-reply@akkoord.test>",
        to=address("jan@example.com", "Jan\r\nBcc: x@evil.test"),
        subject="Onderhoud\r\nBcc: evil@evil.test",
        text="Hallo",
        html="<p>Hallo</p>",
        reply_to="office@example.com",
    )
    await sender_for(smtp.url).send(message)

    [mail] = smtp.to("jan@example.com")
    assert mail.message["Bcc"] is None and mail.rcpt_tos == ["jan@example.com"]
    assert mail.subject == "Onderhoud Bcc: evil@evil.test"
    assert mail.text.strip() == "Hallo" and "<p>Hallo</p>" in mail.html
    assert str(mail.message["Reply-To"]) == "office@example.com"


async def test_a_550_is_a_refusal_and_an_absent_server_a_deferral(smtp):
    smtp.refuse("gone@example.com")
    with pytest.raises(MailRefused) as refused:
        await sender_for(smtp.url).send(compose(sender="a@akkoord.test", to="gone@example.com", subject="s", text="t"))
    assert refused.value.code == 550

    with pytest.raises(MailDeferred):
        await sender_for(f"smtp://127.0.0.1:{free_port()}").send(
            compose(sender="a@akkoord.test", to="jan@example.com", subject="s", text="t")
        )


def test_an_address_that_cannot_be_one_is_refused_before_any_smtp_talk():
    for bad in ("not-an-address", "jan@", "jan @example.com", "jan@example.com\r\nBcc: x@y.z"):
        with pytest.raises(MailRefused):
            address(bad)
