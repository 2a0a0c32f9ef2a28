"""One shape for every service: `bootstrap.build(settings, **adapter_overrides) -> Service`, kept on
`app.state.service`; handlers are functions of (message or command, unit of work).

A service's `UnitOfWork` (a subclass of the one here) holds its adapters and settings. A message handler is
given one bound to the consumer's transaction, the one that also records the message as processed; a use
case behind a route opens its own with `transaction`. Unit tests build the same service with fake adapters:
`bootstrap.build(settings, store=FakeStore(), ...)`.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any, Generic, Self, TypeVar

from fastapi import APIRouter, FastAPI

from contracts import Envelope
from services.runtime.consumer import Consumer
from services.runtime.mongo import Session
from services.runtime.outbox import Outbox
from services.runtime.registry import Handlers

if TYPE_CHECKING:
    from services.runtime.app import Runtime

T = TypeVar("T")


@dataclass(kw_only=True)
class UnitOfWork:
    outbox: Outbox
    # The transaction the work joins: None outside one (a read, or before `transaction` opens one).
    session: Session | None = None

    @property
    def tx(self) -> Session:
        """The transaction this unit of work is bound to, for work that must be part of it (a write with its
        outbox message, a read that decides one). Asking outside one is a programming error."""
        if self.session is None:
            raise RuntimeError(f"{type(self).__name__} is not bound to a transaction: use it inside `transaction`")
        return self.session

    def bound(self, session: Session) -> Self:
        return replace(self, session=session)

    async def transaction(self, work: Callable[[Self], Awaitable[T]]) -> T:
        """Run `work` atomically with the messages it adds to the outbox."""
        return await self.outbox.transaction(lambda session: work(self.bound(session)))


U = TypeVar("U", bound=UnitOfWork)
M = TypeVar("M", bound=Envelope)


def handlers(uow: U, table: Handlers[U]) -> Handlers[Session]:
    """A consumer's handlers: each message class's function, called with the message and `uow` bound to the
    consumer's transaction."""
    bound = Handlers[Session]()
    for message, handler in table.items():
        bound.on(message, _bound(uow, handler))
    return bound


def _bound(uow: U, handler: Callable[[M, U], Awaitable[None]]) -> Callable[[M, Session], Awaitable[None]]:
    async def handle(message: M, session: Session) -> None:
        await handler(message, uow.bound(session))

    handle.__name__ = getattr(handler, "__name__", "handle")
    return handle


@dataclass
class Service(Generic[U]):
    """A built service: its runtime (database, broker, outbox relay), the unit of work its handlers use,
    the routes it serves and the consumers it runs."""

    runtime: Runtime
    uow: U
    title: str
    description: str
    routers: Sequence[APIRouter]
    consumers: Sequence[Consumer]
    publishes: Sequence[str] = ()  # the topics its outbox writes to (documented in /asyncapi.json)
    # What a service adds to its app beyond routes (the portal's static files, middleware, error pages).
    extend_app: list[Callable[[FastAPI], None]] = field(default_factory=list)


class Adapters:
    """The adapters a bootstrap wires, each named once where it is passed to the unit of work:
    `adapter("store", lambda: Store(db))` is the override of that name as given (a test's fake, taken as the
    adapter it stands in for), or else built from its default, keeping the default's type. `check()` after
    the last one refuses an override that names no adapter."""

    def __init__(self, overrides: Mapping[str, Any]) -> None:
        self._overrides = overrides
        self._named: set[str] = set()

    def __call__(self, name: str, default: Callable[[], T]) -> T:
        self._named.add(name)
        if name not in self._overrides:
            return default()
        override: T = self._overrides[name]
        return override

    def check(self) -> None:
        unknown = set(self._overrides) - self._named
        if unknown:
            raise TypeError(f"no such adapter to override: {', '.join(sorted(unknown))}")
