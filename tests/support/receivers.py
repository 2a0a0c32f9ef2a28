"""Loopback HTTP receivers that misbehave the way a hostile webhook endpoint can: raw sockets, so that
the bytes and their timing are exactly what the test says."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from deploy.local.infra import free_port
from tests.support.waiting import eventually

CHUNK = 64 * 1024


@dataclass
class Receiver:
    port: int
    requests: list[tuple[str, dict[str, str]]] = field(default_factory=list)  # (path, headers) as they arrived
    body_bytes_sent: int = 0

    def url(self, path: str, host: str = "127.0.0.1") -> str:
        return f"http://{host}:{self.port}{path}"


async def _read_request(reader: asyncio.StreamReader) -> tuple[str, dict[str, str]]:
    head = (await reader.readuntil(b"\r\n\r\n")).decode()
    request_line, *lines = head.split("\r\n")
    headers = {k.lower(): v.strip() for k, _, v in (line.partition(":") for line in lines if line)}
    await reader.readexactly(int(headers.get("content-length", "0")))
    return request_line.split()[1], headers


@asynccontextmanager
async def misbehaving_receiver(trickle_every: float = 0.2) -> AsyncIterator[Receiver]:
    """`/ok` answers 204; `/trickle` sends its status line and then one header byte every `trickle_every`
    seconds, forever; `/huge` announces 10 GB and streams them as fast as the client takes them."""
    receiver = Receiver(port=0)
    handlers: set[asyncio.Task] = set()

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        handlers.add(asyncio.current_task())
        try:
            path, headers = await _read_request(reader)
            receiver.requests.append((path, headers))
            if path.startswith("/trickle"):
                writer.write(b"HTTP/1.1 200 OK\r\nX-Slow: ")
                while True:
                    await writer.drain()
                    await asyncio.sleep(trickle_every)
                    writer.write(b"a")
            elif path.startswith("/huge"):
                writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 10737418240\r\n\r\n")
                chunk = b"x" * CHUNK
                while True:
                    writer.write(chunk)
                    await writer.drain()
                    receiver.body_bytes_sent += len(chunk)
            else:
                writer.write(b"HTTP/1.1 204 No Content\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
                await writer.drain()
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        finally:
            writer.close()

    server = await asyncio.start_server(serve, "127.0.0.1", 0)
    receiver.port = server.sockets[0].getsockname()[1]
    try:
        yield receiver
    finally:
        server.close()
        for handler in handlers:  # the trickling and streaming ones never end by themselves
            handler.cancel()
        await asyncio.gather(*handlers, return_exceptions=True)
        await server.wait_closed()


@asynccontextmanager
async def hook_receiver(hook: Callable[[Request], Awaitable[Response]]) -> AsyncIterator[str]:
    """A well-behaved HTTP receiver on loopback that answers `POST /{kind}` with `hook`; yields its base URL."""
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(
            Starlette(routes=[Route("/{kind}", hook, methods=["POST"])]), host="127.0.0.1", port=port, log_level="error"
        )
    )
    task = asyncio.create_task(server.serve())

    async def listening() -> bool:
        return server.started

    try:
        await eventually(listening, what="the receiver listens")
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await task
