"""Request body limits against the services as processes: a 413 before the body is read past the limit,
whether the client declares the length or streams chunks; uploads have their own limit and are
authenticated before their bytes are read."""

from __future__ import annotations

import asyncio
import json

import pytest

from tests.integration.staff_keys import a_tenant_with_staff_key

MB = 1024 * 1024


@pytest.fixture(scope="module")
def tasks(stack):
    return stack.start("tasks")


@pytest.fixture(scope="module")
def documents(stack):
    return stack.start("documents")


async def _answer(port: int, head: str, body_parts: list[bytes], *, timeout: float = 15) -> tuple[int, dict, bytes]:
    """Send the head and the parts, then keep the connection open without sending more, and read the
    answer: a server that waits for the rest of the body never answers within `timeout`."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        writer.write(head.encode())
        for part in body_parts:
            writer.write(part)
            await writer.drain()
        raw = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), timeout)
        status_line, *header_lines = raw.decode().split("\r\n")
        headers = {k.lower(): v.strip() for k, _, v in (h.partition(":") for h in header_lines if h)}
        body = await asyncio.wait_for(reader.readexactly(int(headers.get("content-length", "0"))), timeout)
        return int(status_line.split()[1]), headers, body
    finally:
        writer.close()


def _head(method: str, path: str, port: int, **headers: str) -> str:
    lines = [
        f"{method} {path} HTTP/1.1",
        f"Host: 127.0.0.1:{port}",
        *(f"{k.replace('_', '-')}: {v}" for k, v in headers.items()),
    ]
    return "\r\n".join(lines) + "\r\n\r\n"


async def test_a_declared_body_past_the_limit_is_refused_before_it_is_sent(tasks):
    # when a client announces a 2 MB JSON body and sends none of it
    status, headers, body = await _answer(
        tasks.port,
        _head("POST", "/v1/contacts", tasks.port, content_type="application/json", content_length=str(2 * MB)),
        [],
    )
    # then tasks refuses at once, naming the limit
    assert status == 413
    assert "1 MB" in json.loads(body)["detail"]


async def test_a_chunked_body_is_refused_at_the_chunk_that_crosses_the_limit(tasks):
    # given a client that streams chunks without announcing a length
    chunk = b"x" * (256 * 1024)
    chunks = [f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n"] * 5  # 1.25 MB, and no final chunk
    # when it has sent past the limit and then just waits
    status, _, body = await _answer(
        tasks.port,
        _head("POST", "/v1/contacts", tasks.port, content_type="application/json", transfer_encoding="chunked"),
        chunks,
    )
    # then it is answered 413 without the server waiting for the end of the body
    assert status == 413, body
    assert "1 MB" in json.loads(body)["detail"]


async def test_an_upload_has_its_own_larger_limit(infra, documents):
    _, key = await a_tenant_with_staff_key(infra.kafka_bootstrap, documents.url, "/v1/documents")
    boundary = "akkoordtest"
    pdf = b"%PDF-1.4 not really" + b"0" * (3 * MB)
    form = (
        (
            f'--{boundary}\r\nContent-Disposition: form-data; name="title"\r\n\r\nBig\r\n'
            f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="big.pdf"\r\n'
            "Content-Type: application/pdf\r\n\r\n"
        ).encode()
        + pdf
        + f"\r\n--{boundary}--\r\n".encode()
    )
    # when staff upload 3 MB, past the default limit and within the upload limit
    status, _, body = await _answer(
        documents.port,
        _head(
            "POST",
            "/v1/documents",
            documents.port,
            authorization=f"Bearer {key}",
            content_type=f"multipart/form-data; boundary={boundary}",
            content_length=str(len(form)),
        ),
        [form],
    )
    # then the body is read and judged as a PDF (this one is not one), not refused for its size
    assert status == 422, body
    # and past the upload limit (25 MB) it is refused before it is sent
    status, _, body = await _answer(
        documents.port,
        _head(
            "POST",
            "/v1/documents",
            documents.port,
            authorization=f"Bearer {key}",
            content_type=f"multipart/form-data; boundary={boundary}",
            content_length=str(26 * MB),
        ),
        [],
    )
    assert status == 413
    assert "limit of" in json.loads(body)["detail"]


async def test_an_upload_without_credentials_is_refused_before_its_bytes_are_read(documents):
    # when someone without a key announces a 10 MB upload and sends only its first bytes
    boundary = "akkoordtest"
    start = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="x.pdf"\r\n'
        "Content-Type: application/pdf\r\n\r\n%PDF-1.4"
    ).encode()
    status, _, _ = await _answer(
        documents.port,
        _head(
            "POST",
            "/v1/documents",
            documents.port,
            content_type=f"multipart/form-data; boundary={boundary}",
            content_length=str(10 * MB),
        ),
        [start],
    )
    # then the answer is 401 at once: nothing waits for the rest of the body
    assert status == 401
