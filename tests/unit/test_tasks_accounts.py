"""Inviting staff users with in-memory fakes, built through the same `bootstrap.build` as the service."""

from __future__ import annotations

import pytest

from contracts.errors import Forbidden
from services.runtime.staff_auth import Staff
from services.tasks.adapters.mail import MailNotSent
from services.tasks.handlers import accounts
from services.tasks.staff_users import digest
from tests.unit.tasks_fakes import FakeStore, fake_uow

ADMIN = Staff(tenant_id="t1", key_id="user:u0", role="admin", plan="basic", user_id="u0", user_name="Bea")


class FakeAccounts:
    def __init__(self):
        self.users: dict = {}
        self.tokens: dict = {}

    async def ensure_indexes(self):
        pass

    async def insert_user(self, user, session=None):
        self.users[user.id] = user

    async def insert_token(self, token_hash, purpose, user, expires_at, session=None):
        self.tokens[token_hash] = {"purpose": purpose, "user_id": user.id, "expires_at": expires_at}


class FakeMailer:
    def __init__(self, refuse: bool = False):
        self.refuse, self.sent = refuse, []

    async def send(self, to, subject, body):
        if self.refuse:
            raise MailNotSent("refused")
        self.sent.append((to, subject, body))


def world(mailer: FakeMailer):
    store, users = FakeStore(), FakeAccounts()
    store.tenants["t1"] = {"_id": "t1", "name": "Bouwbedrijf De Vries", "plan": "basic"}
    return fake_uow(store=store, accounts=users, mailer=mailer), users


async def test_an_invitation_mails_a_single_use_link_to_the_console_page_that_sets_the_password():
    mailer = FakeMailer()
    uow, users = world(mailer)

    invited = await accounts.invite(uow, ADMIN, email="Anna@Example.nl", name=" Anna ", role="member")

    [(to, subject, body)] = mailer.sent
    assert to == invited["email"] and "Bouwbedrijf De Vries" in subject and "Bea invites you" in body
    assert invited["mailed"] and invited["invitation_url"] in body
    secret = invited["invitation_url"].rsplit("/invitation/", 1)[1]
    assert invited["invitation_url"].startswith(uow.settings.console_url)
    token = users.tokens[digest(secret)]  # only the secret's digest is kept
    assert (token["purpose"], token["user_id"]) == ("invitation", invited["user_id"])
    assert users.users[invited["user_id"]].name == "Anna"


async def test_an_invitation_whose_mail_is_not_sent_stands_and_its_link_is_shown_to_the_admin():
    uow, users = world(FakeMailer(refuse=True))

    invited = await accounts.invite(uow, ADMIN, email="anna@example.nl", name="Anna", role="member")

    assert invited["mailed"] is False and "/invitation/" in invited["invitation_url"]
    assert list(users.users) == [invited["user_id"]] and len(users.tokens) == 1


async def test_only_an_admin_invites_a_colleague():
    mailer = FakeMailer()
    uow, users = world(mailer)
    member = Staff(tenant_id="t1", key_id="user:u1", role="staff", plan="basic", user_id="u1")
    with pytest.raises(Forbidden):
        await accounts.invite(uow, member, email="anna@example.nl", name="Anna", role="member")
    assert users.users == {} and mailer.sent == []
