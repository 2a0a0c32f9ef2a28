"""Use cases: project an event into both timelines; read a timeline for staff or for a portal contact."""

from __future__ import annotations

from typing import Any

from contracts import Envelope
from contracts import messages as m
from contracts.errors import NotFound
from contracts.topics import TIMELINE_CHAIN
from services.runtime.acceptance import accepted_submission
from services.runtime.mongo import Session
from services.timeline import chain
from services.timeline.adapters.mongo import public
from services.timeline.domain import AUDIENCES, Audience, Known, KnownAction, action_of, build_entries, contact_of
from services.timeline.order import Placement
from services.timeline.unit_of_work import UnitOfWork


async def project(event: Envelope, uow: UnitOfWork) -> None:
    """Learn what the event tells about the task, then append its entries (a new event: the consumer
    records each event it handled in the same transaction, so none of its entries exists yet). tasks'
    acceptance of a signing or decline first projects that submission as its own event (the proof entries,
    "Declined by")."""
    if (submission := accepted_submission(event)) is not None:
        await _learn(uow, submission, uow.tx)
        await append_new(uow, submission, uow.tx)
    await _learn(uow, event, uow.tx)
    await append_new(uow, event, uow.tx, fresh=True)


async def append_new(uow: UnitOfWork, event: Envelope, session: Session, *, fresh: bool = False) -> int:
    """Append the event's entries not yet in their chains, and record where each went (timeline.chain)."""
    if event.task_id is None:
        return 0
    known = await _known(uow, event, session)
    entries = build_entries(event, known)
    sealed = await uow.store.append_all(entries, session, fresh=fresh)
    records = [
        m.TimelineEntryAppended(
            **event.caused(),
            payload=m.EntryAppendedPayload(
                entry_id=entry.id,
                event_id=event.event_id,
                audience=entry.audience,
                seq=placed["seq"],
                prev_hash=placed["prev_hash"],
                content_hash=placed["content_hash"],
                hash=placed["hash"],
                known=known.to_dict(),
            ),
        )
        for entry, placed in zip(entries, sealed, strict=False)
        if placed is not None
    ]
    if records:
        await uow.outbox.add(session, TIMELINE_CHAIN, *records)
    return len(records)


async def restore(
    uow: UnitOfWork, event: Envelope, session: Session, placed: dict[str, Placement]
) -> tuple[int, int, bool]:
    """Rebuild: learn from the event, and put back each of its entries that has a recorded place, built
    with the knowledge recorded with it. Returns (restored, restored with a different hash, all placed)."""
    await _learn(uow, event, session)
    if event.task_id is None:
        return 0, 0, True
    ids = [entry.id for entry in build_entries(event)]
    recorded = [placed[i] for i in ids if i in placed]
    known = recorded[0].known if recorded else Known()
    restored = changed = 0
    for entry in build_entries(event, known):
        where = placed.get(entry.id)
        if where is None or (where.tenant_id, where.task_id, where.audience) != (
            entry.tenant_id,
            entry.task_id,
            entry.audience,
        ):
            continue
        doc = await uow.store.restore(entry, where.seq, where.prev_hash, session)
        restored += 1
        changed += doc["hash"] != where.hash  # the event or the code that builds entries changed since
    return restored, changed, restored == len(ids)


async def _learn(uow: UnitOfWork, event: Envelope, session: Session) -> None:
    if isinstance(event, (m.ContactRegistered, m.ContactUpdated)):
        c = event.payload.contact
        await uow.store.note_contact(event.tenant_id, c.contact_id, c.name, session)
    if event.task_id is None:
        return
    contact_id = None
    if isinstance(event, (m.TaskCreated, m.TaskUpdated)):
        contact_id = event.payload.task.contact_id
    elif isinstance(event, m.TaskActionRequested):
        a, c = event.payload.action, event.payload.contact
        contact_id = c.contact_id
        await uow.store.note_contact(event.tenant_id, c.contact_id, c.name, session)
        await uow.store.note_action(
            event.tenant_id,
            event.task_id,
            KnownAction(
                action_id=a.action_id,
                contact_id=c.contact_id,
                contact_name=c.name,
                kind=a.kind,
                document_id=a.document_id,
            ),
            session,
        )
    await uow.store.note_task(event.tenant_id, event.task_id, contact_id, session)


async def _known(uow: UnitOfWork, event: Envelope, session: Session) -> Known:
    action_id, contact_id = action_of(event), contact_of(event)
    action = await uow.store.known_action(event.tenant_id, action_id, session) if action_id else None
    name = await uow.store.contact_name(event.tenant_id, contact_id, session) if contact_id else None
    staff = None
    if event.actor.kind == "staff" and not event.actor.name:
        staff = await uow.store.staff_key_name(event.tenant_id, event.actor.id, session)
    return Known(action=action, contact_name=name, staff_name=staff)


async def for_staff(
    uow: UnitOfWork,
    tenant_id: str,
    task_id: str,
    audience: Audience,
    *,
    kinds: list[str] | None,
    cursor: str | None,
    limit: int,
) -> dict:
    if await uow.store.task_known(tenant_id, task_id) is None:
        raise NotFound(f"task {task_id} not found")
    docs, next_cursor = await uow.store.page(tenant_id, task_id, audience, kinds=kinds, cursor=cursor, limit=limit)
    return {"entries": [public(d, staff_reader=True) for d in docs], "next_cursor": next_cursor}


async def for_contact(
    uow: UnitOfWork,
    tenant_id: str,
    task_id: str,
    contact_id: str,
    *,
    kinds: list[str] | None,
    cursor: str | None,
    limit: int,
) -> dict:
    task = await uow.store.task_known(tenant_id, task_id)
    own_actions = await uow.store.contact_action_ids(tenant_id, task_id, contact_id)
    if task is None or (contact_id not in task.get("contact_ids", []) and not own_actions):
        raise NotFound(f"task {task_id} not found")
    docs, next_cursor = await uow.store.page(
        tenant_id,
        task_id,
        "portal",
        kinds=kinds,
        contact_id=contact_id,
        own_actions=own_actions,
        cursor=cursor,
        limit=limit,
    )
    return {"entries": [public(d, staff_reader=False) for d in docs], "next_cursor": next_cursor}


async def heads(uow: UnitOfWork, tenant_id: str, task_id: str) -> dict:
    """The last link of each audience's chain: what another service anchors (e.g. in signing evidence)."""
    if await uow.store.task_known(tenant_id, task_id) is None:
        raise NotFound(f"task {task_id} not found")
    return {"task_id": task_id, "heads": {a: await uow.store.head(tenant_id, task_id, a) for a in AUDIENCES}}


async def verify(uow: UnitOfWork, tenant_id: str, task_id: str) -> dict:
    if await uow.store.task_known(tenant_id, task_id) is None:
        raise NotFound(f"task {task_id} not found")
    audiences: dict[str, dict[str, Any]] = {}
    chains: dict[str, list[dict[str, Any]]] = {}
    for audience in AUDIENCES:
        docs, head = await uow.store.chain_of(tenant_id, task_id, audience)
        v = chain.verify(docs, head)
        chains[audience] = docs
        audiences[audience] = {
            "valid": v.valid,
            "entries": v.entries,
            "head": v.head,
            "broken_at": v.broken_at,
            "reason": v.reason,
        }
    found = await uow.anchors(tenant_id, task_id) if uow.anchors else None
    anchors = (
        {"compared": False, "reason": "signing could not be asked for its anchors"}
        if found is None
        else {"compared": True, **chain.compare_anchors(chains, found)}
    )
    valid = all(a["valid"] for a in audiences.values()) and not anchors.get("mismatched")
    return {"task_id": task_id, "valid": valid, "audiences": audiences, "anchors": anchors}
