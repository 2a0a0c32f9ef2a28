"""Sends one signed webhook request; the answer is a status code or why there is none.

The tenant chooses the URL and the receiver, so each attempt is bounded as a whole: the host is resolved
and every address checked (services/automation/addresses.py) at send time, the connection goes to the
address that was checked (no second lookup an attacker's DNS could answer differently), and connect,
request, headers and a few KB of the answer must all fit in one deadline. Nothing more of the answer is
read: only its status counts.
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Awaitable, Callable, Iterable
from urllib.parse import urlsplit, urlunsplit

import httpx

from services.automation.addresses import IPAddress, IPNetwork, literal_address, refusal

Resolver = Callable[[str, int], Awaitable[list[str]]]


class Refused(Exception):
    pass


async def resolve(host: str, port: int) -> list[str]:
    infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


class WebhookSender:
    def __init__(
        self,
        timeout: float,
        *,
        max_response_bytes: int = 4096,
        allowed: Iterable[IPNetwork] = (),
        resolver: Resolver = resolve,
    ):
        self.timeout = timeout
        self.max_response_bytes = max_response_bytes
        self.allowed = tuple(allowed)
        self.resolver = resolver
        # trust_env=False: no proxy from the environment between the checked address and the request.
        self.client = httpx.AsyncClient(timeout=timeout, follow_redirects=False, trust_env=False)

    async def post(self, url: str, body: bytes, headers: dict[str, str]) -> tuple[int | None, str | None]:
        status: int | None = None
        try:
            async with asyncio.timeout(self.timeout):
                target, extra_headers, extensions = await self._pinned(url)
                async with self.client.stream(
                    "POST", target, content=body, headers={**headers, **extra_headers}, extensions=extensions
                ) as response:
                    status = response.status_code
                    read = 0
                    async for chunk in response.aiter_raw():
                        read += len(chunk)
                        if read >= self.max_response_bytes:
                            break
        except Refused as exc:
            return None, f"refused: {exc}"
        except TimeoutError:
            if status is not None:
                return status, None  # the answer's status came; its body was too slow to matter
            return None, f"no answer within {self.timeout:g} s"
        except (httpx.HTTPError, OSError, ValueError) as exc:
            return None, f"{type(exc).__name__}: {exc}"[:500]
        return status, None

    async def _pinned(self, url: str) -> tuple[httpx.URL, dict[str, str], dict[str, object]]:
        """The URL with its host replaced by a checked address, the Host header and TLS name to keep."""
        parts = urlsplit(url)
        host = parts.hostname or ""
        port = parts.port or (443 if parts.scheme == "https" else 80)
        literal = literal_address(host)
        addresses: list[IPAddress] = (
            [literal]
            if literal is not None
            else [a for a in (literal_address(r) for r in await self.resolver(host, port)) if a is not None]
        )
        if not addresses:
            raise Refused(f"{host} has no address")
        for address in addresses:
            if why := refusal(address, self.allowed):
                raise Refused(why)
        ip = addresses[0]
        netloc = f"[{ip}]" if ip.version == 6 else str(ip)
        target = httpx.URL(urlunsplit((parts.scheme, f"{netloc}:{port}", parts.path or "/", parts.query, "")))
        extensions: dict[str, object] = {"sni_hostname": host} if literal is None and parts.scheme == "https" else {}
        return target, {"host": parts.netloc.rpartition("@")[2]}, extensions

    async def close(self) -> None:
        await self.client.aclose()
