"""Request body limits: every route has one, checked as the body streams in.

A declared Content-Length past the limit is refused before the application runs; a body that grows
past it while it is read (chunked, or lying about its length) is refused at the chunk that crosses it,
so no route ever holds more than its limit in memory. Routes that take uploads name a larger limit.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from starlette.exceptions import HTTPException
from starlette.routing import compile_path
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from services.runtime.problems import problem


class BodyTooLarge(HTTPException):
    def __init__(self, limit: int):
        super().__init__(413, f"The request body is larger than the limit of {describe(limit)}.")


def describe(size: int) -> str:
    for unit, factor in (("MB", 1024 * 1024), ("KB", 1024)):
        if size >= factor and size % factor == 0:
            return f"{size // factor} {unit}"
    return f"{size} bytes"


class BodyLimit:
    """ASGI middleware: `default` bytes for every route, `routes` (path templates) for the exceptions."""

    def __init__(self, app: ASGIApp, default: int, routes: Mapping[str, int] | None = None):
        self.app = app
        self.default = default
        self.routes: list[tuple[re.Pattern[str], int]] = [
            (compile_path(path)[0], limit) for path, limit in (routes or {}).items()
        ]

    def limit_for(self, path: str) -> int:
        return next((limit for pattern, limit in self.routes if pattern.match(path)), self.default)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.limit_for(scope["path"])
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > limit):
            await self._refuse(scope, receive, send, limit)
            return
        received = 0

        async def counted() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    # An HTTPException, so the application's own handler answers with its problem shape;
                    # body parsers (FastAPI's, Starlette's forms) let it through.
                    raise BodyTooLarge(limit)
            return message

        started = False

        async def tracked(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counted, tracked)
        except BodyTooLarge:
            if started:
                raise
            await self._refuse(scope, receive, send, limit)

    async def _refuse(self, scope: Scope, receive: Receive, send: Send, limit: int) -> None:
        # Connection: close, so the server does not read the rest of the body to reuse the connection.
        response = problem(413, "Request body too large", str(BodyTooLarge(limit).detail))
        response.headers["connection"] = "close"
        await response(scope, receive, send)
