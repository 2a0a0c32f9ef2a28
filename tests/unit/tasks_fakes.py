"""In-memory stand-ins for the tasks service's repository, outbox and key store, for handler unit tests."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from contracts.errors import Invalid, NotFound
from services.tasks import bootstrap
from services.tasks.adapters.idempotency import StoredResponse
from services.tasks.config import Settings
from services.tasks.domain import Action, Contact, DocumentVersion, Task
from services.tasks.unit_of_work import UnitOfWork
from tests.unit.fake_session import FAKE_SESSION


class FakeStore:
    async def ensure_indexes(self):
        pass

    def __init__(self):
        self.tenants: dict[str, dict] = {}
        self.contacts: dict[str, Contact] = {}
        self.tasks: dict[str, Task] = {}
        self.actions: dict[str, Action] = {}
        self.documents: dict[str, DocumentVersion] = {}
        self.rejections: dict[str, dict] = {}
        self.portal_links: list[dict] = []
        self.seeds: dict[str, dict] = {}
        self.keys: dict[str, dict] = {}  # shared with FakeStaffKeys, like the one collection in MongoDB

    async def insert_tenant(self, tenant_id, name, plan, phases, session, time_zone="Europe/Amsterdam"):
        self.tenants[tenant_id] = {
            "_id": tenant_id,
            "name": name,
            "plan": plan,
            "phases": phases,
            "time_zone": time_zone,
        }

    async def get_tenant(self, tenant_id, session=None):
        if tenant_id not in self.tenants:
            raise NotFound(f"tenant {tenant_id} not found")
        return self.tenants[tenant_id]

    async def set_time_zone(self, tenant_id, time_zone, session):
        self.tenants[tenant_id]["time_zone"] = time_zone

    async def set_phases(self, tenant_id, phases, session):
        self.tenants[tenant_id]["phases"] = phases

    async def key_hash_taken(self, key_hash, session):
        return key_hash in self.keys

    async def get_key(self, tenant_id, key_id, session=None):
        for doc in self.keys.values():
            if doc["tenant_id"] == tenant_id and doc["key_id"] == key_id:
                return doc
        raise NotFound(f"key {key_id} not found")

    async def save_contact(self, contact, session):
        self.contacts[contact.id] = contact.model_copy()

    async def get_contact(self, tenant_id, contact_id, session=None):
        return self._owned(self.contacts, tenant_id, contact_id, "contact")

    async def save_task(self, task, session):
        self.tasks[task.id] = task.model_copy()

    async def get_task(self, tenant_id, task_id, session=None):
        return self._owned(self.tasks, tenant_id, task_id, "task")

    async def compare_and_set_phase(self, task, from_phase, session):
        stored = self.tasks.get(task.id)
        if stored is None or stored.tenant_id != task.tenant_id or stored.phase != from_phase:
            return False
        self.tasks[task.id] = task.model_copy()
        return True

    async def any_task_in(self, tenant_id, phases, session):
        return next(
            (
                {"_id": t.id, "phase": t.phase}
                for t in self.tasks.values()
                if t.tenant_id == tenant_id and t.phase in phases
            ),
            None,
        )

    async def insert_action(self, action, session):
        self.actions[action.id] = action.model_copy()

    async def get_action(self, tenant_id, action_id, session=None):
        return self._owned(self.actions, tenant_id, action_id, "action")

    async def actions_of(self, tenant_id, task_id, session=None):
        return [a.model_copy() for a in self.actions.values() if a.tenant_id == tenant_id and a.task_id == task_id]

    async def close_action(self, action, session):
        if self.actions[action.id].status != "open":
            return False
        self.actions[action.id] = action.model_copy()
        return True

    async def count_reminder(self, action, session):
        stored = self.actions[action.id]
        if stored.status != "open" or stored.reminders_sent != action.reminders_sent - 1:
            return False
        self.actions[action.id] = action.model_copy()
        return True

    async def overdue_actions(self, now, limit=100):
        return [a.model_copy() for a in self.actions.values() if a.is_overdue(now)]

    async def due_reminders(self, now, limit=100):
        return [
            a.model_copy()
            for a in self.actions.values()
            if a.next_reminder_at is not None and a.next_reminder_at <= now
        ]

    async def insert_portal_link(self, doc, session):
        self.portal_links.append(doc)

    async def save_document_version(self, version, session):
        self.documents[version.document_id] = version

    async def find_document(self, tenant_id, document_id):
        found = self.documents.get(document_id)
        return found if found and found.tenant_id == tenant_id else None

    async def record_rejection(self, event_id, tenant_id, kind, reason, session, **details):
        self.rejections[event_id] = {"kind": kind, "reason": reason, **details}

    async def get_seed(self, name):
        return self.seeds.get(name)

    async def save_seed(self, name, values, session):
        self.seeds[name] = values

    @staticmethod
    def _owned(items: dict, tenant_id: str, item_id: str, what: str) -> Any:
        item = items.get(item_id)
        if item is None or item.tenant_id != tenant_id:
            raise NotFound(f"{what} {item_id} not found")
        return item.model_copy()


class FakeOutbox:
    def __init__(self):
        self.messages: dict[str, list] = defaultdict(list)

    async def transaction(self, work):
        return await work(FAKE_SESSION)

    async def add(self, session, topic, *messages):
        self.messages[topic] += messages

    def types(self, topic: str = "tasks.events") -> list[str]:
        return [m.type for m in self.messages[topic]]


class FakeStaffKeys:
    def __init__(self, keys: dict[str, dict]):
        self.keys = keys
        self.tenants: dict[str, dict] = {}

    async def save_tenant(self, tenant_id, name, plan, session=None, time_zone="Europe/Amsterdam"):
        self.tenants[tenant_id] = {"name": name, "plan": plan, "time_zone": time_zone}

    async def set_time_zone(self, tenant_id, time_zone, session=None):
        self.tenants.setdefault(tenant_id, {})["time_zone"] = time_zone

    async def save_key(self, tenant_id, key_id, key_hash, role, name, session=None):
        self.keys[key_hash] = {"tenant_id": tenant_id, "key_id": key_id, "role": role, "name": name, "revoked": False}

    async def revoke(self, tenant_id, key_id, session=None):
        for doc in self.keys.values():
            if doc["tenant_id"] == tenant_id and doc["key_id"] == key_id:
                doc["revoked"] = True


class FakeIdempotency:
    async def ensure_indexes(self):
        pass

    def __init__(self):
        self.records: dict[str, tuple[str, Any, list[str]]] = {}

    async def replay(self, key):
        if key.scope not in self.records:
            return None
        fingerprint, response, withheld = self.records[key.scope]
        if fingerprint != key.fingerprint:
            raise Invalid("this Idempotency-Key was already used with a different request body")
        return StoredResponse(response, withheld)

    async def record(self, key, response, session, withheld):
        self.records[key.scope] = (key.fingerprint, response, withheld)


def fake_uow(**overrides: Any) -> UnitOfWork:
    """The tasks service as bootstrap builds it, with in-memory adapters (and any others given)."""
    store = overrides.pop("store", None) or FakeStore()
    return bootstrap.build(
        Settings(document_wait_seconds=0),
        **{
            "store": store,
            "outbox": FakeOutbox(),
            "staff_keys": FakeStaffKeys(store.keys),
            "idempotency": FakeIdempotency(),
            **overrides,
        },
    ).uow.bound(FAKE_SESSION)  # as the consumer binds it; a use case opens its own transaction
