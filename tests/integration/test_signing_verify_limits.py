"""The public verify endpoint against the real signing service: a rate per client and a bounded read."""

from __future__ import annotations

import asyncio
import uuid
from urllib.parse import urlsplit

import httpx
import pytest

from services.runtime.config import DEV_SECRET
from tests.support.pdfs import a_pdf

LIMIT = 25 * 1024 * 1024  # SIGNING_MAX_VERIFY_BYTES's default, which the test stack keeps
RATE = 20  # SIGNING_VERIFY_RATE's default, 20/minute


@pytest.fixture(scope="module")
def signing(stack):
    return stack.start("signing")


def a_client_address() -> str:
    # uvicorn takes X-Forwarded-For from loopback (FORWARDED_ALLOW_IPS' default): each test is its own client
    return f"198.51.{uuid.uuid4().int % 250}.{uuid.uuid4().int % 250 + 1}"


async def test_a_client_past_its_rate_is_told_to_wait_while_another_client_goes_on(signing):
    me, other = {"X-Forwarded-For": a_client_address()}, {"X-Forwarded-For": a_client_address()}
    pdf = a_pdf("not sealed")
    async with httpx.AsyncClient(base_url=signing.url, timeout=60) as client:
        # given a client that has used its rate
        for _ in range(RATE):
            r = await client.post("/v1/verify", headers=me, files={"file": ("x.pdf", pdf)})
            assert r.status_code == 200, r.text
        # when it asks once more, it is refused with the time to wait
        r = await client.post("/v1/verify", headers=me, files={"file": ("x.pdf", pdf)})
        assert r.status_code == 429 and "try again in" in r.json()["detail"]
        assert 0 < int(r.headers["Retry-After"]) <= 60
        # and another address, and the portal (Akkoord's own service, limiting its visitors itself), go on
        assert (await client.post("/v1/verify", headers=other, files={"file": ("x.pdf", pdf)})).status_code == 200
        portal = {"X-Internal-Token": DEV_SECRET}
        assert (await client.post("/v1/verify", headers=portal, files={"file": ("x.pdf", pdf)})).status_code == 200


async def raw_request(url: str, head: bytes, body_chunks=()) -> tuple[int, bytes]:
    """One HTTP/1.1 request written by hand, so that the body sent can differ from the one declared."""
    parts = urlsplit(url)
    reader, writer = await asyncio.open_connection(parts.hostname, parts.port)
    try:
        writer.write(head)
        for chunk in body_chunks:
            writer.write(chunk)
            await writer.drain()
        await writer.drain()
        head_back = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 30)
        length = int(
            next(
                line.split(b":")[1] for line in head_back.split(b"\r\n") if line.lower().startswith(b"content-length:")
            )
        )
        response = head_back + await asyncio.wait_for(reader.readexactly(length), 30)
    finally:
        writer.close()
    return int(response.split(b" ", 2)[1]), response


async def test_a_declared_body_past_the_limit_is_refused_before_a_byte_of_it_is_read(signing):
    # given a request that declares 100 MB and sends none of it
    head = (
        f"POST /v1/verify HTTP/1.1\r\nHost: x\r\nX-Forwarded-For: {a_client_address()}\r\n"
        "Content-Type: multipart/form-data; boundary=b\r\nContent-Length: 104857600\r\n\r\n"
    ).encode()
    # then the answer is 413 at once (were the body awaited, the read would time out)
    status, response = await raw_request(signing.url, head)
    assert status == 413 and b"limit" in response


async def test_a_streamed_body_past_the_limit_is_refused_once_the_limit_is_passed(signing):
    # given a chunked upload (no length declared) that goes past the limit
    head = (
        f"POST /v1/verify HTTP/1.1\r\nHost: x\r\nX-Forwarded-For: {a_client_address()}\r\n"
        "Content-Type: multipart/form-data; boundary=b\r\nTransfer-Encoding: chunked\r\n\r\n"
    ).encode()
    chunk = b"%PDF-1.7 " + b"0" * (1024 * 1024 - 9)
    chunks = [b"%x\r\n%s\r\n" % (len(chunk), chunk) for _ in range(LIMIT // len(chunk) + 1)]
    status, response = await raw_request(signing.url, head, [*chunks, b"%x\r\n%s\r\n" % (1, b"0"), b"0\r\n\r\n"])
    assert status == 413 and b"limit" in response


async def test_a_request_that_is_not_a_form_is_told_what_to_send(signing):
    async with httpx.AsyncClient(base_url=signing.url) as client:
        r = await client.post(
            "/v1/verify",
            headers={"X-Forwarded-For": a_client_address()},
            content=a_pdf("x"),
            params={},
        )
    assert r.status_code == 422 and "multipart/form-data" in r.json()["detail"]
