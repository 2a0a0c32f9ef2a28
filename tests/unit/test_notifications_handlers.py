"""Which mails the events decide, with an in-memory store standing in for the database (no I/O)."""

from __future__ import annotations

from datetime import UTC, datetime

from contracts import Actor
from contracts import messages as m
from contracts.models import ActionSnapshot, ContactRef, Evidence, SignatureRef, Signer, TaskSnapshot
from services.notifications import bootstrap
from services.notifications.config import Settings
from services.notifications.domain import ActionFacts, Brand, Notification, Prefs, Recipient
from services.notifications.handlers import handle
from tests.unit.fake_session import FAKE_SESSION

TENANT = "t1"
JAN = ContactRef(contact_id="c1", name="Jan", email="jan@example.nl", language="en")


class FakeStore:
    async def ensure_indexes(self):
        pass

    def __init__(self, prefs: Prefs | None = None):
        self.brands: dict[str, Brand] = {}
        self.contacts: dict[str, tuple[Recipient, bool]] = {}
        self.actions: dict[str, ActionFacts] = {}
        self.replacements: dict[str, str] = {}
        self.prefs = prefs or Prefs()
        self.queued: dict[str, Notification] = {}

    async def save_tenant(self, tenant_id, brand, session):
        # like the database: the branding's fields, the zone kept as it was
        kept = self.brands.get(tenant_id, Brand()).time_zone
        self.brands[tenant_id] = brand.model_copy(update={"time_zone": kept})

    async def set_time_zone(self, tenant_id, time_zone, session):
        self.brands[tenant_id] = self.brands.get(tenant_id, Brand()).model_copy(update={"time_zone": time_zone})

    async def save_contact(self, tenant_id, contact, archived, session):
        self.contacts[contact.contact_id] = (contact, archived)

    async def contact(self, tenant_id, contact_id, session):
        found = self.contacts.get(contact_id)
        return found[0] if found and not found[1] else None

    async def save_document(self, tenant_id, document_id, title, session):
        pass

    async def document_title(self, tenant_id, document_id, session):
        return None

    async def save_action(self, tenant_id, action, session):
        self.actions[action.action_id] = action

    async def action(self, tenant_id, action_id, session):
        found = self.actions.get(action_id)
        return found.model_copy(update={"replaces": self.replacements.get(action_id)}) if found else None

    async def note_replacement(self, tenant_id, successor_id, replaced_id, session):
        self.replacements[successor_id] = replaced_id

    async def replaced(self, tenant_id, action_id, session):
        return self.replacements.get(action_id)

    async def prefs_of(self, tenant_id, session=None):
        return self.prefs

    async def queue(self, notification, session):
        self.queued.setdefault(notification.id, notification)  # like the upsert: a second decision adds nothing

    def kinds(self) -> list[tuple[str, str]]:
        return sorted((n.kind, n.recipient.email) for n in self.queued.values())


async def given(store: FakeStore, *messages: m.Envelope) -> None:
    uow = bootstrap.build(Settings(), store=store).uow  # the service as bootstrap wires it, on this store
    for message in messages:
        await handle(message, uow.bound(FAKE_SESSION))


def requested(action_id: str = "a1", *, notify: bool = True, actor: Actor | None = None) -> m.TaskActionRequested:
    return m.TaskActionRequested(
        tenant_id=TENANT,
        task_id="k1",
        actor=actor or Actor(kind="staff", id="key1"),
        payload=m.ActionRequestedPayload(
            action=ActionSnapshot(action_id=action_id, kind="sign_task", contact_id="c1", notify=notify),
            task=TaskSnapshot(task_id="k1", title="Paint", phase="Waiting"),
            contact=JAN,
        ),
    )


def signed(action_id: str = "a1") -> m.TaskSigned:
    at = datetime(2026, 12, 1, tzinfo=UTC)
    return m.TaskSigned(
        tenant_id=TENANT,
        task_id="k1",
        payload=m.TaskSignedPayload(
            action_id=action_id,
            signer=Signer(contact_id="c1", name="Jan", email=JAN.email),
            fields={},
            signature=SignatureRef(signature_id="s", kind="typed", image_digest="d", image_url="http://x/s.png"),
            evidence=Evidence(
                signed_at=at,
                ip="127.0.0.1",
                user_agent="ua",
                session_id="s",
                auth_method="magic_link",
                consent_text="ok",
                consent_version="1",
            ),
            task=TaskSnapshot(task_id="k1", title="Paint", phase="Waiting"),
        ),
    )


async def test_a_request_mails_the_contact_and_a_redelivery_decides_nothing_new():
    store = FakeStore()
    event = requested()
    await given(store, m.ContactRegistered(tenant_id=TENANT, payload=m.ContactPayload(contact=JAN)), event, event)
    assert store.kinds() == [("action_requested", "jan@example.nl")]


async def test_a_replacement_is_one_updated_request_not_a_withdrawal_and_a_request():
    store = FakeStore()
    cancelled = m.TaskActionCancelled(
        tenant_id=TENANT,
        task_id="k1",
        payload=m.ActionRefPayload(action_id="a1", contact_id="c1", reason="replaced by a2"),
    )
    await given(
        store,
        m.ContactRegistered(tenant_id=TENANT, payload=m.ContactPayload(contact=JAN)),
        requested("a1"),
        cancelled,
        requested("a2"),
    )
    assert [n.kind for n in store.queued.values()] == ["action_requested", "action_requested"]
    assert [n.facts.get("replaces") for n in store.queued.values()] == [False, True]


async def test_notify_false_keeps_the_contact_out_of_it_but_staff_still_learn_it_was_signed():
    store = FakeStore(Prefs(staff_address="office@bos.example"))
    await given(
        store,
        m.ContactRegistered(tenant_id=TENANT, payload=m.ContactPayload(contact=JAN)),
        requested(notify=False),
        signed(),
    )
    assert store.kinds() == [("staff_signed", "office@bos.example")]


async def test_the_console_user_who_asked_is_told_of_the_signature_not_the_tenants_address():
    store = FakeStore(Prefs(staff_address="office@bos.example", disabled=["action_requested"]))
    piet = Actor(kind="staff_user", id="u1", name="Piet", email="piet@bos.example")
    await given(
        store,
        m.ContactRegistered(tenant_id=TENANT, payload=m.ContactPayload(contact=JAN)),
        requested(actor=piet),
        signed(),
    )
    assert store.kinds() == [("staff_signed", "piet@bos.example")]


async def test_one_thank_you_per_action_however_many_seals_arrive():
    store = FakeStore()

    def sealed(kind: str) -> m.SignatureSealed:
        return m.SignatureSealed(
            tenant_id=TENANT,
            task_id="k1",
            payload=m.SignatureSealedPayload(
                evidence_id="e", action_id="a1", kind=kind, pdf_id=kind, digest="d", pdf_url="http://signing/x"
            ),
        )

    await given(
        store,
        m.ContactRegistered(tenant_id=TENANT, payload=m.ContactPayload(contact=JAN)),
        requested(),
        sealed("approval_certificate"),
        sealed("sealed_document"),
    )
    assert store.kinds() == [("action_requested", "jan@example.nl"), ("proof", "jan@example.nl")]


async def test_the_tenants_time_zone_is_kept_from_its_registration_and_changes_and_a_new_branding_leaves_it():
    store = FakeStore()
    registered = m.TenantRegistered(
        tenant_id=TENANT, payload=m.TenantRegisteredPayload(name="Bos", plan="basic", time_zone="Asia/Tokyo")
    )
    await given(store, registered)
    assert store.brands[TENANT].time_zone == "Asia/Tokyo"
    moved = m.TenantTimeZoneChanged(tenant_id=TENANT, payload=m.TenantTimeZonePayload(time_zone="America/New_York"))
    rebranded = m.TenantBrandingChanged(tenant_id=TENANT, payload=m.TenantBrandingPayload(name="Bos & Zn"))
    await given(store, moved, rebranded)
    assert store.brands[TENANT].time_zone == "America/New_York" and store.brands[TENANT].name == "Bos & Zn"
