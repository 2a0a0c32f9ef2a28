"""A signing takes effect when tasks accepts it.

The portal's task.signed / document.signed is a signing tasks may still refuse (its action was cancelled or
expired meanwhile). tasks answers with task.action_completed, carrying the signing it accepted, or with
signing.rejected. Evidence, seals, stamping, rules, webhooks and the timelines act on the accepted signing:
each consumer's table maps task.action_completed to its signing handlers through `on_acceptance`.
"""

from __future__ import annotations

from typing import Awaitable, Callable, Mapping

from contracts import Envelope
from contracts import messages as m
from services.runtime.consumer import Handler
from services.runtime.mongo import Session

# The portal's submissions: no service but tasks acts on them directly.
SUBMITTED: tuple[type[Envelope], ...] = (m.TaskSigned, m.DocumentSigned)


def accepted_signing(event: Envelope) -> m.TaskSigned | m.DocumentSigned | None:
    """The portal's signing that this task.action_completed accepted, if it carries one."""
    return event.payload.signing if isinstance(event, m.TaskActionCompleted) else None


def on_acceptance(handlers: Mapping[type[Envelope], Handler],
                  completed: Handler | None = None) -> dict[type[Envelope], Handler]:
    """A consumer-table entry for task.action_completed: the handler for the accepted signing's class runs on
    that signing (as the portal sent it: same event id, so effects keyed on it stay idempotent), then
    `completed`, if given, on the completion itself."""

    async def handle(event: Envelope, session: Session) -> None:
        signing = accepted_signing(event)
        if signing is not None and (handler := handlers.get(type(signing))) is not None:
            await handler(signing, session)
        if completed is not None:
            await completed(event, session)

    return {m.TaskActionCompleted: handle}


def wants_acceptance(wants: Callable[[Envelope], Awaitable[bool]]) -> Callable[[Envelope], Awaitable[bool]]:
    """A consumer's `wants` that also asks about the signing a completion carries."""

    async def check(event: Envelope) -> bool:
        signing = accepted_signing(event)
        return await wants(event) or (signing is not None and await wants(signing))

    return check
