"""Message contracts: the stored JSON Schemas guard old consumers."""

from __future__ import annotations

import copy

from contracts import parse_message
from contracts.messages import TaskSigned
from contracts.schemas import breaking_changes, current_schemas, stored_schemas


def test_every_message_type_has_a_stored_schema_and_none_breaks_its_consumers():
    current, stored = current_schemas(), stored_schemas()
    assert set(current) >= set(stored), "a message type disappeared"
    assert set(current) == set(stored), "run `make schemas` and commit contracts/schemas/"
    problems = {name: breaking_changes(stored[name], current[name]) for name in stored}
    assert {k: v for k, v in problems.items() if v} == {}


def test_removing_a_field_is_a_breaking_change():
    old = current_schemas()["task.signed.v1.json"]
    new = copy.deepcopy(old)
    del new["$defs"]["Evidence"]["properties"]["ip"]
    assert "payload.evidence.ip: removed" in breaking_changes(old, new)


def test_retyping_a_field_is_a_breaking_change():
    old = current_schemas()["task.created.v1.json"]
    new = copy.deepcopy(old)
    new["$defs"]["TaskSnapshot"]["properties"]["title"] = {"type": "integer"}
    assert any("payload.task.title: type" in p for p in breaking_changes(old, new))


def test_adding_an_optional_field_is_not_a_breaking_change():
    old = current_schemas()["task.created.v1.json"]
    new = copy.deepcopy(old)
    new["$defs"]["TaskSnapshot"]["properties"]["priority"] = {"type": "string"}
    assert breaking_changes(old, new) == []


def test_a_message_of_an_unknown_newer_type_is_ignored_not_rejected():
    assert parse_message(b'{"type": "task.teleported", "tenant_id": "t"}') is None


def test_a_message_round_trips_through_json():
    schema = TaskSigned.model_json_schema()
    assert schema["properties"]["type"]["const"] == "task.signed"
