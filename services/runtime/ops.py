"""The operations port: metrics, API documents and health for operators and Prometheus, on a port of its
own (`<SERVICE>_OPS_PORT`) that the public ingress never routes to. The public port serves the API and
health only: no /metrics, /docs, /redoc, /openapi.json or /asyncapi.json for anyone on the internet.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import uvicorn
from fastapi import APIRouter, FastAPI, Response
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html
from fastapi.responses import HTMLResponse, JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from services.runtime.config import ServiceSettings

GRACE_SECONDS = 3


def ops_app(app: FastAPI, health: APIRouter, *, messages: Callable[[], dict[str, Any]]) -> FastAPI:
    """The operations app beside the public `app`: its documents are the public app's, and `messages` its
    AsyncAPI document."""
    ops = FastAPI(title=f"{app.title} — operations", openapi_url=None, docs_url=None, redoc_url=None)
    ops.include_router(health)

    @ops.get("/metrics")
    async def metrics() -> Response:
        return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)

    @ops.get("/openapi.json")
    async def openapi() -> JSONResponse:
        return JSONResponse(app.openapi())

    @ops.get("/docs")
    async def docs() -> HTMLResponse:
        return get_swagger_ui_html(openapi_url="/openapi.json", title=app.title)

    @ops.get("/redoc")
    async def redoc() -> HTMLResponse:
        return get_redoc_html(openapi_url="/openapi.json", title=app.title)

    @ops.get("/asyncapi.json")
    async def asyncapi() -> JSONResponse:
        return JSONResponse(messages())

    return ops


class _OpsServer(uvicorn.Server):
    """Leaves the signals to the public server, which stops this one once it has stopped."""

    @contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


def serve_both(app: FastAPI, ops: FastAPI, settings: ServiceSettings) -> None:
    # uvloop and httptools: the event loop and HTTP parser in C, which every request and Kafka message
    # goes through (a few ms of CPU per signing across the services).
    common: dict[str, Any] = dict(log_config=None, access_log=False, loop="uvloop", http="httptools")
    # On SIGTERM open requests get GRACE_SECONDS, then the lifespan's bounded cleanup (app.py): a service is
    # gone within 10 s even when the broker and the database went first.
    public = uvicorn.Server(
        uvicorn.Config(app, host=settings.host, port=settings.port, timeout_graceful_shutdown=GRACE_SECONDS, **common)
    )
    operations = _OpsServer(
        uvicorn.Config(ops, host=settings.ops_host or settings.host, port=settings.ops_port, lifespan="off", **common)
    )

    async def both() -> None:
        beside = asyncio.create_task(operations.serve())
        try:
            await public.serve()
        finally:
            operations.should_exit = True
            await beside

    with asyncio.Runner(loop_factory=public.config.get_loop_factory()) as runner:
        runner.run(both())
