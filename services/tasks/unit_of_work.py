"""What every use case needs, and the one way it commits: state + outbox (+ idempotency record) atomically."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

from pydantic_core import to_jsonable_python
from pymongo.errors import DuplicateKeyError

from contracts import Actor, utcnow
from contracts.errors import Conflict
from services.runtime import service as runtime_service
from services.runtime.mongo import Session
from services.runtime.staff_auth import Staff, StaffKeys
from services.tasks.adapters.accounts import AccountsStore
from services.tasks.adapters.idempotency import IdempotencyKey, IdempotencyRecords, StoredResponse
from services.tasks.adapters.mail import Mailer
from services.tasks.adapters.mongo import TasksStore
from services.tasks.config import Settings

T = TypeVar("T")


@dataclass(kw_only=True)
class UnitOfWork(runtime_service.UnitOfWork):
    settings: Settings
    store: TasksStore
    staff_keys: StaffKeys
    idempotency: IdempotencyRecords
    accounts: AccountsStore  # the console's staff users, their sessions and single-use links
    mailer: Mailer  # invitations, password resets, portal links sent from the console


def to_millis(at: datetime) -> datetime:
    """MongoDB keeps milliseconds; so do we, so that a response equals a later read of the same thing."""
    return at.replace(microsecond=at.microsecond // 1000 * 1000)


def now() -> datetime:
    return to_millis(utcnow())


def staff_actor(staff: Staff) -> Actor:
    return staff.actor()


async def commit(
    uow: UnitOfWork,
    work: Callable[[Session], Awaitable[T]],
    idem: IdempotencyKey | None = None,
    secrets: tuple[str, ...] = (),
) -> T:
    """Run `work` in one transaction; with an idempotency key, a repeat returns the first result instead.

    The response fields named in `secrets` (an API key, a magic link) are shown once and never stored: a
    repeat of such a request is refused with 409, naming what the first one created."""
    if idem is None:
        return await uow.outbox.transaction(work)
    if (first := await uow.idempotency.replay(idem)) is not None:
        return _replayable(first)

    async def keyed(session: Session) -> Any:
        result = to_jsonable_python(await work(session))  # stored and replayed exactly as first sent
        kept = {k: v for k, v in result.items() if k not in secrets} if secrets else result
        await uow.idempotency.record(idem, kept, session, withheld=[k for k in secrets if k in result])
        return result

    try:
        return await uow.outbox.transaction(keyed)
    except DuplicateKeyError:
        # A concurrent retry with the same key committed first: answer as it did.
        if (first := await uow.idempotency.replay(idem)) is not None:
            return _replayable(first)
        raise


def _replayable(first: StoredResponse) -> Any:
    if first.withheld:
        created = {k: v for k, v in first.response.items() if k.endswith("_id")}
        raise Conflict(
            f"This request was already made with this Idempotency-Key. Its {', '.join(first.withheld)} "
            "was shown only in the first response and is not stored, so it cannot be shown again; "
            "if that response was lost, make a new request without this key.",
            code="secret_shown_once",
            created=created,
        )
    return first.response
