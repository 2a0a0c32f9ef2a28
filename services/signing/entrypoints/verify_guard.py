"""What stands before a public verification: a rate per client, and a body read no further than the limit.

Both happen before the check waits for a worker, so a flood of requests or one endless upload costs
little. The rate is kept in process memory (per replica; the ingress is the place for a shared one).
"""

from __future__ import annotations

import hmac
import math
import time
from typing import Annotated

from fastapi import Depends, HTTPException, Request
from limits import parse
from limits.storage import MemoryStorage
from limits.strategies import MovingWindowRateLimiter
from starlette.datastructures import UploadFile

from contracts.errors import Invalid

# Room for the multipart framing (boundaries, part headers) around the file itself.
MULTIPART_OVERHEAD = 64 * 1024


class ClientRate:
    def __init__(self, rate: str):
        self.item = parse(rate)
        self.limiter = MovingWindowRateLimiter(MemoryStorage())

    def retry_after(self, client: str) -> float:
        """0 when `client` may go on (the request is counted), else the seconds until it may."""
        if self.limiter.hit(self.item, "verify", client):
            return 0.0
        return max(1.0, self.limiter.get_window_stats(self.item, "verify", client).reset_time - time.time())


async def rate_limited(request: Request) -> None:
    """Counts the request against its client's rate; Akkoord's own services (the portal's verify page,
    which limits its customers itself) are not counted."""
    settings = request.app.state.service.uow.settings
    token = request.headers.get("x-internal-token", "")
    if token and "x-forwarded-for" not in request.headers and hmac.compare_digest(token, settings.internal_token):
        return
    client = request.client.host if request.client else "unknown"
    wait = request.app.state.service.uow.verify_rate.retry_after(client)
    if wait:
        raise HTTPException(
            429,
            f"Too many verifications from your address; try again in {math.ceil(wait)} s.",
            headers={"Retry-After": str(math.ceil(wait))},
        )


RateLimited = Depends(rate_limited)


async def bounded_pdf(request: Request) -> bytes:
    """The uploaded file's bytes, having read at most the limit (plus the form's framing) of the body."""
    limit = request.app.state.service.uow.settings.max_verify_bytes
    too_large = HTTPException(413, f"The file is larger than the limit of {limit // (1024 * 1024)} MB.")
    cap = limit + MULTIPART_OVERHEAD
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > cap:
        raise too_large  # before reading a byte of it
    if not request.headers.get("content-type", "").startswith("multipart/form-data"):
        raise Invalid("Send the PDF as the field 'file' of a multipart/form-data form.")
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > cap:
            raise too_large
    form = await _replayed(request, bytes(body)).form(max_files=1, max_fields=5)
    upload = form.get("file")
    if not isinstance(upload, UploadFile):
        raise Invalid("Send the PDF as the field 'file' of a multipart/form-data form.")
    data = await upload.read(limit + 1)
    if len(data) > limit:
        raise too_large
    if not data:
        raise Invalid("The uploaded file is empty.")
    return data


def _replayed(request: Request, body: bytes) -> Request:
    sent = False

    async def receive() -> dict:
        nonlocal sent
        if sent:
            return {"type": "http.disconnect"}
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    return Request(request.scope, receive)


BoundedPdf = Annotated[bytes, Depends(bounded_pdf)]
# The request body as OpenAPI should describe it (the route reads it itself, so FastAPI cannot infer it).
PDF_FORM = {
    "requestBody": {
        "required": True,
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "required": ["file"],
                    "properties": {"file": {"type": "string", "format": "binary", "description": "the PDF to check"}},
                }
            }
        },
    }
}
