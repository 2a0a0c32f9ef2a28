"""Where the live projection placed each entry, read back from its own log: what a rebuild restores.

The live projection appends an event's entries when the event reaches it, and events from several topics
reach it interleaved differently on every run. So the chain order is not a function of the event topics;
it is recorded instead: every append publishes `timeline.entry_appended` (place, hashes, and what the
projection knew beside the event) through the outbox, in the transaction that writes the entry. A rebuild
builds each entry's content from its event and that recorded knowledge, and puts it back at its recorded
place, so every hash — and every head anchored elsewhere — is the same as before.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from contracts.messages import TimelineEntryAppended
from services.timeline.domain import Known


@dataclass(frozen=True)
class Placement:
    tenant_id: str
    task_id: str
    audience: str
    seq: int
    prev_hash: str
    hash: str
    known: Known


def placements(records: Iterable[TimelineEntryAppended]) -> dict[str, Placement]:
    """Entry id -> its recorded place, from `records` in log order (one task's records share a partition).

    A record seen again (the outbox relayed it twice) changes nothing. A later record for a place that is
    already taken (the chain was started again on an empty database) wins: that is what the projection held
    last, and the entry it displaced counts as never recorded, to be appended after the recorded ones.
    """
    by_entry: dict[str, Placement] = {}
    by_place: dict[tuple[str, str, str, int], str] = {}
    for record in records:
        p = record.payload
        if p.entry_id in by_entry or record.task_id is None:
            continue
        place = (record.tenant_id, record.task_id, p.audience, p.seq)
        if (displaced := by_place.get(place)) is not None:
            del by_entry[displaced]
        by_place[place] = p.entry_id
        by_entry[p.entry_id] = Placement(
            tenant_id=record.tenant_id,
            task_id=record.task_id,
            audience=p.audience,
            seq=p.seq,
            prev_hash=p.prev_hash,
            hash=p.hash,
            known=Known.from_dict(p.known),
        )
    return by_entry
