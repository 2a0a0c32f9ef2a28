"""The hash chain over one task's timeline per audience: each entry commits to its content and to
the entry before it, so a changed, inserted or deleted entry breaks every hash after it."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

GENESIS = "0" * 64
# The fields an entry's hash covers: everything a reader sees, plus its place in the chain.
HASHED = (
    "id",
    "tenant_id",
    "task_id",
    "audience",
    "kind",
    "at",
    "summary",
    "actor",
    "contact_id",
    "action_id",
    "data",
    "event_id",
    "seq",
)


def _canonical(value: Any) -> Any:
    if isinstance(value, datetime):
        return int(value.timestamp() * 1000)  # milliseconds: what MongoDB stores
    if isinstance(value, dict):
        return {k: _canonical(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_canonical(v) for v in value]
    return value


def content_hash(entry: dict[str, Any]) -> str:
    content = {k: _canonical(entry.get(k)) for k in HASHED}
    return hashlib.sha256(json.dumps(content, sort_keys=True, separators=(",", ":")).encode()).hexdigest()


def link_hash(prev_hash: str, content: str) -> str:
    return hashlib.sha256(f"{prev_hash}:{content}".encode()).hexdigest()


def seal(entry: dict[str, Any], seq: int, prev_hash: str) -> dict[str, Any]:
    """`entry` placed at `seq` after `prev_hash`, with its hashes."""
    placed = {**entry, "seq": seq, "prev_hash": prev_hash}
    content = content_hash(placed)
    return {**placed, "content_hash": content, "hash": link_hash(prev_hash, content)}


@dataclass(frozen=True)
class Verdict:
    valid: bool
    entries: int
    head: str
    broken_at: int | None = None
    reason: str | None = None


def verify(entries: Iterable[dict[str, Any]], head: str | None = None) -> Verdict:
    """Re-compute the chain over `entries` in seq order; `head` is the last hash recorded separately."""
    prev, count = GENESIS, 0
    for count, entry in enumerate(entries, start=1):
        seq = entry.get("seq")
        if seq != count:
            return Verdict(False, count - 1, prev, seq, f"entry {count} is missing (found seq {seq})")
        if entry.get("prev_hash") != prev:
            return Verdict(False, count - 1, prev, seq, f"entry {seq} does not follow entry {seq - 1}")
        content = content_hash(entry)
        if content != entry.get("content_hash") or link_hash(prev, content) != entry.get("hash"):
            return Verdict(False, count - 1, prev, seq, f"entry {seq} was changed after it was written")
        prev = entry["hash"]
    if head is not None and head != prev:
        return Verdict(False, count, prev, count + 1, "entries after the last one were deleted")
    return Verdict(True, count, prev)


def compare_anchors(chains: dict[str, list[dict[str, Any]]], anchors: Iterable[dict[str, Any]]) -> dict[str, Any]:
    """Hold each head another service anchored (signing, in its evidence) against the chain here.

    `chains` maps an audience to its entries; `anchors` are signing's: {evidence_id, sealed, anchor: {audience,
    seq, hash} or None}. A chain rewritten consistently (every hash recomputed) verifies on its own; only a
    hash kept outside the timeline's database shows it was rewritten.
    """
    hashes = {(audience, doc.get("seq")): doc.get("hash") for audience, docs in chains.items() for doc in docs}
    checked, mismatched, unanchored = 0, [], []
    for item in anchors:
        anchor = item.get("anchor")
        if anchor is None:
            if item.get("sealed"):
                unanchored.append(item["evidence_id"])
            continue
        checked += 1
        found = hashes.get((anchor.get("audience", "staff"), anchor["seq"]))
        if found != anchor["hash"]:
            mismatched.append(
                {
                    "evidence_id": item["evidence_id"],
                    "audience": anchor.get("audience", "staff"),
                    "seq": anchor["seq"],
                    "anchored": anchor["hash"],
                    "found": found,
                }
            )
    return {"checked": checked, "mismatched": mismatched, "unanchored": unanchored}
