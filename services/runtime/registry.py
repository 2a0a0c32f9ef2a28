"""A consumer's handlers: each message class with the one function for it, typed for that class.

`on(TaskSigned, record_evidence)` is the only way in, and the type checker holds the handler to the class:
it is declared with its exact message type (`event: TaskSigned`) and needs no narrowing. The consumer looks
a handler up by the class of the message it parsed, so a handler is only ever given the class it was
registered for; read back, the table speaks of `Envelope` (what a consumer holds before it looks).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, Iterator, Mapping
from typing import Any, TypeVar

from contracts import Envelope

M = TypeVar("M", bound=Envelope)
# What a handler is given beside the message: the consumer's session, or a unit of work bound to it.
C = TypeVar("C")


class Handlers(Mapping[type[Envelope], Callable[[Envelope, C], Awaitable[None]]]):
    def __init__(self) -> None:
        self._by_class: dict[type[Envelope], Callable[[Any, C], Awaitable[None]]] = {}

    def on(self, message: type[M], handler: Callable[[M, C], Awaitable[None]]) -> Handlers[C]:
        self._by_class[message] = handler
        return self

    def on_each(self, messages: Iterable[type[M]], handler: Callable[[M, C], Awaitable[None]]) -> Handlers[C]:
        for message in messages:
            self.on(message, handler)
        return self

    def __or__(self, other: Handlers[C]) -> Handlers[C]:
        """Both tables in one; `other`'s handler wins for a class both have (as with dicts)."""
        merged = Handlers[C]()
        merged._by_class = {**self._by_class, **other._by_class}
        return merged

    def __getitem__(self, message: type[Envelope]) -> Callable[[Envelope, C], Awaitable[None]]:
        return self._by_class[message]

    def __iter__(self) -> Iterator[type[Envelope]]:
        return iter(self._by_class)

    def __len__(self) -> int:
        return len(self._by_class)
