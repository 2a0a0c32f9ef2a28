"""RFC 9457 problem details: every error body has one shape."""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from pymongo.errors import ConnectionFailure
from starlette.exceptions import HTTPException

from contracts.errors import DomainError

PROBLEM = "application/problem+json"
# How long a client should wait before asking again while the database cannot be reached (it restarts, fails over)
UNAVAILABLE_RETRY_AFTER = "5"
log = logging.getLogger(__name__)


class Problem(BaseModel):
    type: str = "about:blank"
    title: str
    status: int
    detail: str
    errors: list[dict[str, Any]] | None = None


PROBLEM_RESPONSES: dict[int | str, dict[str, Any]] = {
    code: {"model": Problem, "description": title, "content": {PROBLEM: {}}}
    for code, title in (
        (401, "Missing or unknown credentials"),
        (403, "Not allowed"),
        (404, "Not found"),
        (409, "Conflict"),
        (422, "Invalid request"),
        (503, "The database cannot be reached for a moment; try again"),
    )
}


def problem(
    status: int, title: str, detail: str, headers: Mapping[str, str] | None = None, **extra: Any
) -> JSONResponse:
    body = {"type": "about:blank", "title": title, "status": status, "detail": detail, **extra}
    return JSONResponse(body, status_code=status, media_type=PROBLEM, headers=headers)


def _field(loc: Sequence[Any]) -> str:
    parts = [str(p) for p in loc if p not in ("body", "query", "path", "header")]
    return ".".join(parts) or "body"


def install(app: FastAPI) -> None:
    @app.exception_handler(DomainError)
    async def domain_error(_: Request, exc: DomainError) -> JSONResponse:
        return problem(exc.status, exc.title, exc.detail, **exc.extra)

    @app.exception_handler(RequestValidationError)
    async def validation_error(_: Request, exc: RequestValidationError) -> JSONResponse:
        errors = [{"field": _field(e["loc"]), "message": e["msg"]} for e in exc.errors()]
        detail = "; ".join(f"{e['field']}: {e['message']}" for e in errors)
        return problem(422, "Invalid request", detail, errors=errors)

    @app.exception_handler(HTTPException)
    async def http_error(_: Request, exc: HTTPException) -> JSONResponse:
        # its headers (Retry-After, WWW-Authenticate) are part of the answer
        return problem(exc.status_code, str(exc.detail), str(exc.detail), headers=exc.headers)

    @app.exception_handler(ConnectionFailure)
    async def database_unavailable(request: Request, exc: ConnectionFailure) -> JSONResponse:
        return unavailable(request, exc)


def unavailable(request: Request, exc: ConnectionFailure) -> JSONResponse:
    """The database is away (restarting, failing over): a request that needed it is answered 503 with Retry-After,
    which callers retry, and logged as an outage, not as an unhandled error. Nothing was written half: every
    write goes through a transaction."""
    log.warning("database unavailable for %s %s: %s", request.method, request.url.path, type(exc).__name__)
    return problem(
        503,
        "Service unavailable",
        "The database cannot be reached for a moment; try again shortly.",
        headers={"Retry-After": UNAVAILABLE_RETRY_AFTER},
    )
