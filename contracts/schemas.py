"""JSON Schemas of the messages, kept in contracts/schemas/ so that breaking changes are caught.

`python -m contracts.schemas` rewrites the stored files; the compatibility test compares the
stored schema (what existing consumers rely on) with the one the code produces now.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from contracts.messages import MESSAGE_TYPES

SCHEMA_DIR = Path(__file__).parent / "schemas"


def current_schemas() -> dict[str, dict[str, Any]]:
    out = {}
    for message in MESSAGE_TYPES:
        name = message.model_fields["type"].default
        version = message.model_fields["schema_version"].default
        out[f"{name}.v{version}.json"] = message.model_json_schema(mode="serialization")
    return out


def stored_schemas() -> dict[str, dict[str, Any]]:
    return {p.name: json.loads(p.read_text()) for p in sorted(SCHEMA_DIR.glob("*.json"))}


def _resolve(schema: dict[str, Any], root: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        schema = root["$defs"][schema["$ref"].rsplit("/", 1)[-1]]
    return schema


def _types(schema: dict[str, Any], root: dict[str, Any]) -> set[str]:
    schema = _resolve(schema, root)
    if "anyOf" in schema:
        return set().union(*(_types(s, root) for s in schema["anyOf"]))
    if "const" in schema:
        return {f"const:{schema['const']}"}
    if "enum" in schema:
        return {f"const:{v}" for v in schema["enum"]}
    return {schema.get("type", "any")}


def breaking_changes(
    old: dict[str, Any],
    new: dict[str, Any],
    path: str = "",
    old_root: dict[str, Any] | None = None,
    new_root: dict[str, Any] | None = None,
) -> list[str]:
    """What an old consumer of `old` would trip over in messages shaped by `new`."""
    old_root, new_root = old_root or old, new_root or new
    old, new = _resolve(old, old_root), _resolve(new, new_root)
    problems = []
    old_props, new_props = old.get("properties", {}), new.get("properties", {})
    for name, old_prop in old_props.items():
        where = f"{path}.{name}" if path else name
        if name not in new_props:
            problems.append(f"{where}: removed")
            continue
        old_types, new_types = _types(old_prop, old_root), _types(new_prop := new_props[name], new_root)
        if not new_types <= old_types:  # a consumer handles only the types it was written for
            problems.append(f"{where}: type {sorted(old_types)} became {sorted(new_types)}")
        if name in old.get("required", []) and name not in new.get("required", []):
            problems.append(f"{where}: no longer required")
        problems += breaking_changes(old_prop, new_prop, where, old_root, new_root)
    return problems


def write() -> None:
    SCHEMA_DIR.mkdir(exist_ok=True)
    for name, schema in current_schemas().items():
        (SCHEMA_DIR / name).write_text(json.dumps(schema, indent=2, sort_keys=True) + "\n")


if __name__ == "__main__":
    write()
