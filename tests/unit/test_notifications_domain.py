"""Which mail goes to whom, how retries are spaced, and what the recipient reads — without any I/O."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from contracts import utcnow
from services.notifications.domain import (
    ActionFacts,
    Brand,
    Notification,
    Prefs,
    Recipient,
    RetryPolicy,
    contact_mail,
    next_attempt,
    notification_id,
    replaced_by,
    staff_mail,
)
from services.notifications.render import render

ACTION = ActionFacts(action_id="a1", task_id="t1", task_title="Paint", kind="sign_task", contact_id="c1")
JAN = Recipient(email="jan@example.nl", name="Jan", language="en", contact_id="c1")


def test_the_contact_gets_mail_unless_the_request_or_the_tenant_says_no():
    assert contact_mail("action_requested", ACTION, JAN, Prefs()) == JAN
    assert contact_mail("action_requested", ACTION.model_copy(update={"notify": False}), JAN, Prefs()) is None
    assert contact_mail("action_reminder", ACTION, JAN, Prefs(disabled=["action_reminder"])) is None
    assert contact_mail("action_requested", ACTION, None, Prefs()) is None, "an archived contact gets nothing"


def test_staff_mail_goes_to_the_requesting_user_else_to_the_tenants_address_else_nowhere():
    by_user = ACTION.model_copy(update={"requested_by_email": "piet@bos.example", "requested_by_name": "Piet"})
    assert staff_mail("staff_signed", by_user, Prefs(staff_address="office@bos.example")).email == "piet@bos.example"
    assert staff_mail("staff_signed", ACTION, Prefs(staff_address="office@bos.example")).email == "office@bos.example"
    assert staff_mail("staff_signed", ACTION, Prefs()) is None
    assert staff_mail("staff_declined", ACTION, Prefs(staff_address="o@b.example", disabled=["staff_declined"])) is None


def test_retries_back_off_exponentially_up_to_a_cap_and_stop_at_the_give_up_time():
    policy = RetryPolicy(base_seconds=10, max_delay_seconds=60, give_up_after_seconds=300)
    start = utcnow()
    waits = [(next_attempt(policy, start, n, start) - start).total_seconds() for n in (1, 2, 3, 4, 5)]
    assert waits == [10, 20, 40, 60, 60]
    assert next_attempt(policy, start, 3, start + timedelta(seconds=290)) is None


def test_the_same_cause_and_recipient_name_the_same_record():
    assert notification_id("proof", "a1", "Jan@Example.nl ") == notification_id("proof", "a1", "jan@example.nl")
    assert notification_id("proof", "a1", "jan@example.nl") != notification_id("proof", "a2", "jan@example.nl")


def test_a_replacement_is_read_from_tasks_cancellation_reason():
    assert replaced_by("replaced by abc123") == "abc123"
    assert replaced_by("typo") is None and replaced_by(None) is None


def test_the_html_mail_escapes_what_staff_typed_and_the_text_mail_keeps_it_readable():
    n = Notification(
        id="n",
        tenant_id="t",
        task_id="t1",
        event_id="e",
        kind="action_requested",
        recipient=JAN,
        facts={"task_title": "<script>alert(1)</script>", "action_kind": "sign_task"},
        created_at=utcnow(),
        next_attempt_at=None,
    )
    mail = render(n, Brand(name="Bos & Zn"), link="https://portal.example/login?token=x")
    assert "<script>" not in mail.html and "&lt;script&gt;" in mail.html and "Bos &amp; Zn" in mail.html
    assert "<script>alert(1)</script>" in mail.text and "https://portal.example/login?token=x" in mail.text
    assert mail.subject == "Bos & Zn asks for your approval: <script>alert(1)</script>"


def test_a_brand_colour_or_logo_that_is_not_one_falls_back_to_the_default():
    brand = Brand(name="Bos", colour="red;background:url(x)", logo_url="javascript:alert(1)")
    assert brand.colour == Brand().colour and brand.logo_url is None
    assert Brand(name="Bos", colour="#AA3300", logo_url="https://bos.example/logo.png").colour == "#AA3300"
    assert Brand(logo_url="http://127.0.0.1:8001/v1/tenants/t/logo").logo_url, "a development logo on loopback"
    assert Brand(logo_url="http://bos.example/logo.png").logo_url is None


def test_a_mails_deadline_is_written_in_the_tenants_time_zone():
    n = Notification(
        id="n",
        tenant_id="t",
        task_id="t1",
        event_id="e",
        kind="action_requested",
        recipient=JAN,
        facts={"task_title": "Paint", "action_kind": "sign_task", "expires_at": datetime(2030, 1, 15, 12, tzinfo=UTC)},
        created_at=utcnow(),
        next_attempt_at=None,
    )
    assert "Tuesday 15 January 2030 at 21:00 JST" in render(n, Brand(time_zone="Asia/Tokyo"), link=None).text
    assert "Tuesday 15 January 2030 at 13:00 CET" in render(n, Brand(), link=None).text
