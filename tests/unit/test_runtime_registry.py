"""A consumer's handler table: each message class with its one handler, found by the message's own class."""

from __future__ import annotations

from contracts import messages as m
from services.runtime.registry import Handlers


async def issued(event: m.StaffKeyIssued, seen: list[str]) -> None:
    seen.append(f"issued {event.payload.key_id}")


async def revoked(event: m.StaffKeyRevoked, seen: list[str]) -> None:
    seen.append(f"revoked {event.payload.key_id}")


def key_issued() -> m.StaffKeyIssued:
    payload = m.StaffKeyIssuedPayload(key_id="k1", key_hash="0" * 64, name="ci", role="staff")
    return m.StaffKeyIssued(tenant_id="t1", payload=payload)


async def test_a_message_is_given_to_the_handler_registered_for_its_class():
    # given a table with a handler for each of two classes
    table = Handlers[list[str]]().on(m.StaffKeyIssued, issued).on(m.StaffKeyRevoked, revoked)
    # when a staff_key.issued is looked up by its class and handled
    message, seen = key_issued(), []
    await table[type(message)](message, seen)
    # then only the issued handler ran
    assert seen == ["issued k1"]
    assert list(table) == [m.StaffKeyIssued, m.StaffKeyRevoked]


def test_a_class_without_a_handler_is_not_in_the_table():
    table = Handlers[list[str]]().on(m.StaffKeyIssued, issued)
    assert table.get(m.StaffKeyRevoked) is None and m.StaffKeyRevoked not in table


def test_one_handler_can_be_registered_for_several_classes():
    async def either(event: m.StaffKeyIssued | m.StaffKeyRevoked, seen: list[str]) -> None:
        seen.append(event.type)

    table = Handlers[list[str]]().on_each((m.StaffKeyIssued, m.StaffKeyRevoked), either)
    assert table[m.StaffKeyIssued] is either and table[m.StaffKeyRevoked] is either


def test_merging_two_tables_keeps_both_and_the_second_wins_for_a_shared_class():
    async def issued_again(event: m.StaffKeyIssued, seen: list[str]) -> None:
        seen.append("again")

    first = Handlers[list[str]]().on(m.StaffKeyIssued, issued)
    second = Handlers[list[str]]().on(m.StaffKeyIssued, issued_again).on(m.StaffKeyRevoked, revoked)
    merged = first | second
    assert dict(merged) == {m.StaffKeyIssued: issued_again, m.StaffKeyRevoked: revoked}
    assert dict(first) == {m.StaffKeyIssued: issued}, "merging builds a new table"
