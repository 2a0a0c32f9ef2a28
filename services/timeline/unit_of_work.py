"""What the timeline's handlers work through: its store, and the transaction of the work."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from services.runtime import service
from services.runtime.staff_auth import StaffKeys
from services.timeline.adapters.mongo import TimelineStore


@dataclass(kw_only=True)
class UnitOfWork(service.UnitOfWork):
    store: TimelineStore
    staff_keys: StaffKeys
    # The heads signing anchored in its evidence for a task: [{evidence_id, sealed, anchor}], or None when
    # signing cannot be asked (then verify says the anchors were not compared).
    anchors: Callable[[str, str], Awaitable[list[dict[str, Any]] | None]] | None = None
