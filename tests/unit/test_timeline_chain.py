"""The hash chain over a task's timeline catches changed, removed and reordered entries."""

from __future__ import annotations

from tests import approval_events as ev
from services.timeline import chain
from services.timeline.domain import build_entries

JAN = ev.contact()


def chained_staff_entries() -> list[dict]:
    events = [ev.task_created("t1", "task-1"), ev.requested("t1", "task-1", JAN, "a1"),
              ev.task_signed("t1", "task-1", "a1", JAN)]
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
