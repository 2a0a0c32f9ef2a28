"""The hash chain over a task's timeline catches changed, removed and reordered entries."""

from __future__ import annotations

from contracts.messages import EntryAppendedPayload, TimelineEntryAppended
from services.timeline import chain
from services.timeline.domain import Known, KnownAction, build_entries
from services.timeline.order import placements
from tests.support import approval_events as ev

JAN = ev.contact()


def chained_staff_entries() -> list[dict]:
    events = [
        ev.task_created("t1", "task-1"),
        ev.requested("t1", "task-1", JAN, "a1"),
        ev.task_signed("t1", "task-1", "a1", JAN),
    ]
    out, prev = [], chain.GENESIS
    for event in events:
        entry = next(e for e in build_entries(event) if e.audience == "staff")
        sealed = chain.seal(entry.model_dump(), len(out) + 1, prev)
        out.append(sealed)
        prev = sealed["hash"]
    return out


def test_an_untouched_chain_verifies():
    entries = chained_staff_entries()
    verdict = chain.verify(entries, entries[-1]["hash"])
    assert verdict.valid and verdict.entries == 3 and verdict.head == entries[-1]["hash"]


def test_a_changed_entry_is_caught():
    entries = chained_staff_entries()
    entries[1]["summary"] = "Signature requested from Piet"
    verdict = chain.verify(entries, entries[-1]["hash"])
    assert not verdict.valid and verdict.broken_at == 2 and "changed" in verdict.reason


def test_a_removed_entry_in_the_middle_is_caught():
    entries = chained_staff_entries()
    del entries[1]
    assert not chain.verify(entries, entries[-1]["hash"]).valid


def test_a_removed_last_entry_is_caught_by_the_recorded_head():
    entries = chained_staff_entries()
    head = entries[-1]["hash"]
    assert not chain.verify(entries[:-1], head).valid


def test_a_changed_entry_whose_hashes_were_recomputed_breaks_the_next_link():
    entries = chained_staff_entries()
    entries[0] = chain.seal({**entries[0], "summary": "forged"}, 1, chain.GENESIS)
    verdict = chain.verify(entries, entries[-1]["hash"])
    assert not verdict.valid and verdict.broken_at == 2


def appended(entry_id: str, seq: int, task: str = "task-1", known: dict | None = None) -> TimelineEntryAppended:
    return TimelineEntryAppended(
        tenant_id="t1",
        task_id=task,
        payload=EntryAppendedPayload(
            entry_id=entry_id,
            event_id=entry_id.split(":")[0],
            audience="staff",
            seq=seq,
            prev_hash="p",
            content_hash="c",
            hash=f"h{seq}",
            known=known or {},
        ),
    )


def test_recorded_places_ignore_a_record_relayed_twice_and_bring_back_what_the_projection_knew():
    known = Known(action=KnownAction(action_id="a1", contact_id="c-jan", contact_name="Jan", kind="sign_task"))
    first = appended("e1:staff", 1, known=known.to_dict())
    placed = placements([first, appended("e2:staff", 2), first])
    assert {k: (v.seq, v.hash) for k, v in placed.items()} == {"e1:staff": (1, "h1"), "e2:staff": (2, "h2")}
    assert placed["e1:staff"].known == known


def test_a_later_record_for_a_taken_place_wins_and_the_displaced_entry_counts_as_unrecorded():
    placed = placements([appended("e1:staff", 1), appended("e2:staff", 2), appended("e3:staff", 1)])
    assert set(placed) == {"e2:staff", "e3:staff"} and placed["e3:staff"].seq == 1
    # the same place in another task's chain is another place
    assert set(placements([appended("e1:staff", 1), appended("e4:staff", 1, task="task-2")])) == {
        "e1:staff",
        "e4:staff",
    }
