"""Builds a service process: FastAPI + faststream broker + outbox relay + consumers, one lifespan."""

from __future__ import annotations

import asyncio
import logging
import socket
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

from fastapi import APIRouter, FastAPI
from fastapi.responses import JSONResponse
from faststream.kafka import KafkaBroker
from opentelemetry.instrumentation.fastapi import FastAPIInstrumentor
from pymongo import AsyncMongoClient
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import ConnectionFailure

from services.runtime import metrics, problems
from services.runtime.asyncapi import document as asyncapi_document
from services.runtime.body_limits import BodyLimit
from services.runtime.bus import ensure_topics, make_broker
from services.runtime.config import ServiceSettings
from services.runtime.consumer import Tracking, register
from services.runtime.mongo import connect
from services.runtime.ops import ops_app, serve_both
from services.runtime.outbox import Outbox, OutboxRelay, RelayLease
from services.runtime.service import Service
from services.runtime.staff_auth import StaffKeys
from services.runtime.telemetry import setup_logging, setup_tracing

log = logging.getLogger(__name__)
SHUTDOWN_SECONDS = 6.0  # the lifespan's cleanup on SIGTERM; open requests get GRACE_SECONDS before it (ops.py)


@dataclass
class Runtime:
    """The I/O every service has: database, broker, outbox. Built in bootstrap, never at import time."""

    name: str
    settings: ServiceSettings
    client: AsyncMongoClient[Any]
    db: AsyncDatabase[Any]
    broker: KafkaBroker
    outbox: Outbox
    tracking: Tracking
    staff_keys: StaffKeys
    startup: list[Callable[[], Awaitable[None]]] = field(default_factory=list)
    shutdown: list[Callable[[], Awaitable[None]]] = field(default_factory=list)
    background: list[Callable[[], Coroutine[Any, Any, None]]] = field(default_factory=list)

    def every(self, seconds: float, job: Callable[[], Awaitable[object]], name: str) -> None:
        """Run `job` in the background every `seconds` while the service runs; a pass that fails is logged
        and the next one comes as planned."""

        async def repeat() -> None:
            while True:
                try:
                    await job()
                except asyncio.CancelledError:
                    raise
                except ConnectionFailure as exc:  # the database restarts or fails over: an outage, not a fault
                    log.warning("%s paused, the database is unreachable: %s", name, exc)
                except Exception:
                    log.exception("%s failed; trying again in %g s", name, seconds)
                await asyncio.sleep(seconds)

        repeat.__name__ = name
        self.background.append(repeat)


def build_runtime(name: str, settings: ServiceSettings) -> Runtime:
    provider = setup_tracing(name, settings.otel_exporter_otlp_endpoint)
    client = connect(settings.mongodb_uri)
    db = client[settings.database]
    outbox = Outbox(client, db)
    staff_keys = StaffKeys(db)
    runtime = Runtime(
        name=name,
        settings=settings,
        client=client,
        db=db,
        broker=make_broker(settings.kafka_bootstrap_servers, name, provider),
        outbox=outbox,
        tracking=Tracking(outbox),
        staff_keys=staff_keys,
    )
    runtime.startup += [outbox.ensure_indexes, staff_keys.ensure_indexes, runtime.tracking.attempts.ensure_indexes]
    return runtime


def _health_router(runtime: Runtime) -> APIRouter:
    router = APIRouter(tags=["health"])

    @router.get("/healthz", summary="The process is alive")
    async def healthz() -> dict[str, str]:
        return {"status": "ok", "service": runtime.name}

    @router.get("/readyz", summary="The broker and the database are reachable")
    async def readyz() -> JSONResponse:
        checks = {"database": False, "broker": False}
        try:
            await asyncio.wait_for(runtime.client.admin.command("ping"), 2)
            checks["database"] = True
        except Exception:
            pass
        try:
            checks["broker"] = await runtime.broker.ping(timeout=2)
        except Exception:
            pass
        ready = all(checks.values())
        return JSONResponse({"status": "ready" if ready else "not ready", **checks}, status_code=200 if ready else 503)

    return router


async def _stop(runtime: Runtime, tasks: list[asyncio.Task[None]]) -> None:
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    for hook in runtime.shutdown:
        await hook()
    await runtime.broker.stop()
    await runtime.client.close()


def create_app(service: Service[Any]) -> FastAPI:
    """The process around a built service: its routes, its consumers, and one lifespan for its I/O."""
    runtime, settings = service.runtime, service.runtime.settings
    for consumer in service.consumers:
        register(runtime.broker, runtime.tracking, consumer, max_attempts=settings.consumer_max_attempts)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        await ensure_topics(settings.kafka_bootstrap_servers)
        for hook in runtime.startup:
            await hook()
        await runtime.broker.start()
        lease = RelayLease(runtime.db, holder=f"{socket.gethostname()}:{settings.port}")
        tasks = [
            asyncio.create_task(OutboxRelay(runtime.outbox, runtime.broker, lease=lease).run(), name="outbox-relay")
        ]
        tasks += [asyncio.create_task(job(), name=getattr(job, "__name__", "job")) for job in runtime.background]
        try:
            yield
        finally:
            # Bounded: with the broker or the database already gone (everything stopped at once), leaving
            # the group or closing clients could wait on timeouts far longer than an orchestrator's grace.
            try:
                await asyncio.wait_for(_stop(runtime, tasks), SHUTDOWN_SECONDS)
            except TimeoutError:
                log.warning(
                    "%s: shutdown took longer than %g s; exiting without waiting further",
                    runtime.name,
                    SHUTDOWN_SECONDS,
                )

    # The API's documents are served on the operations port only (services/runtime/ops.py).
    app = FastAPI(
        title=service.title,
        description=service.description,
        version="1.0.0",
        lifespan=lifespan,
        responses=problems.PROBLEM_RESPONSES,
        openapi_url=None,
        docs_url=None,
        redoc_url=None,
    )
    app.state.service = service
    problems.install(app)
    metrics.install(app)
    app.add_middleware(BodyLimit, default=settings.max_body_bytes, routes=settings.route_body_limits)
    health = _health_router(runtime)
    app.include_router(health)
    for router in service.routers:
        app.include_router(router)
    app.state.ops = ops_app(app, health, messages=lambda: asyncapi_document(service))
    FastAPIInstrumentor.instrument_app(app, excluded_urls="healthz,readyz")
    for extend in service.extend_app:
        extend(app)
    return app


def serve(app: FastAPI, settings: ServiceSettings, name: str) -> None:
    """Serve the public app on `<SERVICE>_PORT` and its operations app on `<SERVICE>_OPS_PORT`."""
    setup_logging(name)
    serve_both(app, app.state.ops, settings)
