"""Prometheus metrics every service exposes at /metrics."""

from __future__ import annotations

import time

from fastapi import APIRouter, FastAPI, Request, Response
from prometheus_client import CONTENT_TYPE_LATEST, Counter, Gauge, Histogram, generate_latest

REQUEST_SECONDS = Histogram("akkoord_http_request_duration_seconds", "HTTP request latency",
                            ["method", "route", "status"])
EVENTS = Counter("akkoord_events_total", "Messages consumed, by outcome",
                 ["group", "topic", "type", "outcome"])  # handled | duplicate | passed_over | retried | dead_lettered
CONSUMER_LAG = Gauge("akkoord_consumer_lag", "Messages behind the partition's end after a batch was handled",
                     ["group", "topic", "partition"])
PDF_SECONDS = Histogram("akkoord_pdf_work_seconds", "CPU-bound PDF work on a worker thread, by operation",
                        ["operation"], buckets=(0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10))
OUTBOX_PENDING = Gauge("akkoord_outbox_pending", "Messages written but not yet published")
PUBLISHED = Counter("akkoord_outbox_published_total", "Messages published by the outbox relay", ["topic"])


def install(app: FastAPI) -> None:
    @app.middleware("http")
    async def measure(request: Request, call_next):
        start = time.perf_counter()
        response = await call_next(request)
        route = request.scope.get("route")
        REQUEST_SECONDS.labels(request.method, getattr(route, "path", "unmatched"),
                               str(response.status_code)).observe(time.perf_counter() - start)
        return response

    router = APIRouter(include_in_schema=False)

    @router.get("/metrics")
    async def metrics() -> Response:
        return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)

    app.include_router(router)
