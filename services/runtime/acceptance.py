"""A signing or a decline takes effect when tasks accepts it.

The portal's task.signed / document.signed / action.declined is a submission tasks may still refuse (its action
was cancelled, replaced or expired meanwhile). tasks answers a signing with task.action_completed carrying it,
or with signing.rejected; a decline with task.action_declined carrying it, or with decline.rejected. Evidence,
seals, stamping, rules, webhooks, staff mail and the timelines act on the accepted submission: each consumer's
table maps tasks' acceptances to its submission handlers through `on_acceptance`.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from contracts import Envelope
from contracts import messages as m
from services.runtime.consumer import Handler
from services.runtime.mongo import Session
from services.runtime.registry import Handlers

Submission = m.TaskSigned | m.DocumentSigned | m.ActionDeclined
Acceptance = m.TaskActionCompleted | m.TaskActionDeclined
# The portal's submissions: no service but tasks acts on them directly.
SUBMITTED: tuple[type[Envelope], ...] = (m.TaskSigned, m.DocumentSigned, m.ActionDeclined)
# tasks' acceptance of each submission, and what it carries.
ACCEPTANCES: dict[type[Acceptance], tuple[type[Envelope], ...]] = {
    m.TaskActionCompleted: (m.TaskSigned, m.DocumentSigned),
    m.TaskActionDeclined: (m.ActionDeclined,),
}


def accepted_submission(event: Envelope) -> Submission | None:
    """The portal's signing or decline that this tasks event accepted, if it carries one."""
    if isinstance(event, m.TaskActionCompleted):
        return event.payload.signing
    if isinstance(event, m.TaskActionDeclined):
        return event.payload.decline
    return None


def on_acceptance(
    handlers: Handlers[Session], completed: Handlers[Session] | Handler | None = None
) -> Handlers[Session]:
    """Consumer-table entries for tasks' acceptances of the submissions `handlers` handle: the handler for the
    accepted submission's class runs on it (as the portal sent it: same event id, so effects keyed on it stay
    idempotent), then the acceptance's own handler, if any (`completed`: one for all, or by class)."""

    def entry(own: Handler | None) -> Callable[[Acceptance, Session], Awaitable[None]]:
        async def handle(event: Acceptance, session: Session) -> None:
            submission = accepted_submission(event)
            if submission is not None and (handler := handlers.get(type(submission))) is not None:
                await handler(submission, session)
            if own is not None:
                await own(event, session)

        return handle

    table = Handlers[Session]()
    for acceptance, carried in ACCEPTANCES.items():
        own = completed.get(acceptance) if isinstance(completed, Handlers) else completed
        if any(c in handlers for c in carried):
            table.on(acceptance, entry(own))
        elif own is not None:
            table.on(acceptance, own)
    return table


def wants_acceptance(wants: Callable[[Envelope], Awaitable[bool]]) -> Callable[[Envelope], Awaitable[bool]]:
    """A consumer's `wants` that also asks about the submission an acceptance carries."""

    async def check(event: Envelope) -> bool:
        submission = accepted_submission(event)
        return await wants(event) or (submission is not None and await wants(submission))

    return check
