"""The portal's use cases with in-memory fakes, built through the same `bootstrap.build` as the service:
the second factor's codes against a clock, and the signing page's document view kept per tenant."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest

from contracts.errors import Conflict, Forbidden, Invalid
from services.portal import bootstrap
from services.portal.config import Settings
from services.portal.domain import SessionContext
from services.portal.handlers import documents, second_factor
from services.portal.unit_of_work import UnitOfWork
from tests.support.pdfs import a_pdf

START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
ACTION = {
    "action_id": "a1",
    "task_id": "t1",
    "contact_id": "c1",
    "kind": "sign_document",
    "status": "open",
    "document_id": "d1",
    "document_version_id": "v1",
    "document_digest": "sha256:1",
}


class FakeStore:
    def __init__(self):
        self.pending: dict[str, dict] = {}
        self.wrong_codes = 0
        self.second_factor_done: list[str] = []

    async def ensure_indexes(self):
        pass

    async def action(self, tenant_id, action_id, session=None):
        return {**ACTION, "tenant_id": tenant_id} if action_id == ACTION["action_id"] else None

    async def contact(self, tenant_id, contact_id):
        return {"contact_id": contact_id, "email": "anna@example.com", "language": "nl"}

    async def set_pending_otp(self, session_id, pending):
        self.pending[session_id] = pending

    async def pending_otp(self, session_id):
        return self.pending.get(session_id)

    async def count_wrong_code(self, tenant_id, action_id):
        self.wrong_codes += 1
        return self.wrong_codes

    async def mark_second_factor(self, session_id):
        self.second_factor_done.append(session_id)


class FakeMailer:
    def __init__(self):
        self.sent: list[tuple[str, str, str]] = []

    async def send(self, to, subject, body):
        self.sent.append((to, subject, body))


class FakeFiles:
    def __init__(self, pdf: bytes):
        self.pdf, self.asked = pdf, []

    async def get(self, url, params=None):
        self.asked.append((url, params))
        return self.pdf, "application/pdf"


class Clock:
    def __init__(self):
        self.now = START

    def __call__(self) -> datetime:
        return self.now


def portal(**overrides) -> UnitOfWork:
    settings = Settings(otp_tenants="*", otp_minutes=10, otp_max_attempts=2)
    return bootstrap.build(settings, **overrides).uow


def session(tenant_id: str = "tenant-1", auth_method: str = "magic_link") -> SessionContext:
    return SessionContext(
        session_id="s1", tenant_id=tenant_id, contact_id="c1", csrf_token="x", language="nl", auth_method=auth_method
    )


async def test_a_mailed_code_confirms_the_session_until_its_minutes_have_passed_on_the_clock():
    store, mailer, clock = FakeStore(), FakeMailer(), Clock()
    uow = portal(store=store, mailer=mailer, clock=clock)

    sent = await second_factor.send(uow, session(), "a1")

    [(to, subject, body)] = mailer.sent
    assert to == "anna@example.com" and sent.sent_to == "a***@example.com"
    assert subject.startswith("Uw Akkoord-code") and "10 minuten" in body
    assert sent.expires_at == START + timedelta(minutes=10)
    code = re.search(r"\d{6}", subject).group(0)
    clock.now = START + timedelta(minutes=9)
    await second_factor.verify(uow, session(), "a1", code)
    assert store.second_factor_done == ["s1"]
    clock.now = START + timedelta(minutes=10)
    with pytest.raises(Invalid) as expired:
        await second_factor.verify(uow, session(), "a1", code)
    assert expired.value.extra["code"] == "otp_expired"


async def test_wrong_codes_up_to_the_limit_lock_the_action_for_every_later_code():
    store = FakeStore()
    uow = portal(store=store, mailer=FakeMailer(), clock=Clock())
    await second_factor.send(uow, session(), "a1")

    with pytest.raises(Invalid):
        await second_factor.verify(uow, session(), "a1", "000000x")
    with pytest.raises(Conflict) as locked:
        await second_factor.verify(uow, session(), "a1", "000000x")
    assert locked.value.extra["code"] == "otp_locked"
    assert store.second_factor_done == []


async def test_a_document_is_not_shown_before_the_code_the_tenant_asks_for():
    files = FakeFiles(a_pdf("Offerte"))
    uow = portal(store=FakeStore(), files=files)
    with pytest.raises(Forbidden):
        await documents.pdf(uow, session(), "a1")
    assert files.asked == []


async def test_a_document_version_is_read_once_then_shown_from_the_cache_but_never_to_another_tenant():
    files = FakeFiles(a_pdf("Offerte voor de verbouwing"))
    uow = portal(store=FakeStore(), files=files)
    confirmed = session(auth_method="magic_link+otp")

    first = await documents.view(uow, confirmed, "a1")
    again = await documents.view(uow, confirmed, "a1")

    assert first.available and "Offerte voor de verbouwing" in first.pages[0] and again == first
    [(url, params)] = files.asked
    assert url == f"{uow.settings.documents_url}/internal/v1/documents/d1/versions/v1/pdf"
    assert params == {"tenant_id": "tenant-1"}
    await documents.view(uow, session("tenant-2", auth_method="magic_link+otp"), "a1")
    assert [p for _, p in files.asked] == [{"tenant_id": "tenant-1"}, {"tenant_id": "tenant-2"}]
