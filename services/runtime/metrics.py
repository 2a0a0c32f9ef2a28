"""Prometheus metrics every service exposes at /metrics on its operations port (services/runtime/ops.py)."""

from __future__ import annotations

import time

from fastapi import FastAPI
from prometheus_client import Counter, Gauge, Histogram
from starlette.types import ASGIApp, Message, Receive, Scope, Send

REQUEST_SECONDS = Histogram(
    "akkoord_http_request_duration_seconds", "HTTP request latency", ["method", "route", "status"]
)
EVENTS = Counter(
    "akkoord_events_total", "Messages consumed, by outcome", ["group", "topic", "type", "outcome"]
)  # handled | duplicate | passed_over | retried | dead_lettered
CONSUMER_LAG = Gauge(
    "akkoord_consumer_lag",
    "Messages behind the partition's end after a batch was handled",
    ["group", "topic", "partition"],
)
PDF_SECONDS = Histogram(
    "akkoord_pdf_work_seconds",
    "CPU-bound PDF work on a worker thread, by operation",
    ["operation"],
    buckets=(0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)
OUTBOX_PENDING = Gauge("akkoord_outbox_pending", "Messages written but not yet published")
OUTBOX_RELAYING = Gauge("akkoord_outbox_relaying", "1 when this replica holds the outbox lease and publishes it")
PUBLISHED = Counter("akkoord_outbox_published_total", "Messages published by the outbox relay", ["topic"])

# Labels come from a closed set, never from what a client sends: an unknown method or a path that
# matches no route would otherwise make a new series per request (memory, and a scrape that grows).
KNOWN_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
OTHER_METHOD = "other"
UNMATCHED_ROUTE = "unmatched"


def request_labels(method: str, route: object, status: int) -> tuple[str, str, str]:
    """The (method, route template, status) a request is counted under."""
    template = getattr(route, "path", None)
    return (
        method if method in KNOWN_METHODS else OTHER_METHOD,
        template if isinstance(template, str) else UNMATCHED_ROUTE,
        str(status),
    )


class MeasureRequests:
    """ASGI middleware (not BaseHTTPMiddleware, which would run the body's reading in a task of its own)."""

    def __init__(self, app: ASGIApp):
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start, status = time.perf_counter(), 500

        async def noting_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, noting_status)
        finally:
            REQUEST_SECONDS.labels(*request_labels(scope["method"], scope.get("route"), status)).observe(
                time.perf_counter() - start
            )


def install(app: FastAPI) -> None:
    app.add_middleware(MeasureRequests)
