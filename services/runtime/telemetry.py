"""OpenTelemetry tracing and JSON logs carrying the trace id."""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable

from aiokafka.errors import KafkaError
from opentelemetry import trace
from opentelemetry.instrumentation.httpx import HTTPXClientInstrumentor
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor


def setup_tracing(service_name: str, otlp_endpoint: str | None) -> TracerProvider:
    current = trace.get_tracer_provider()
    if isinstance(current, TracerProvider):  # already set up (tests may install their own)
        return current
    provider = TracerProvider(resource=Resource.create({"service.name": f"akkoord-{service_name}"}))
    if otlp_endpoint:
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

        provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter(endpoint=f"{otlp_endpoint}/v1/traces")))
    trace.set_tracer_provider(provider)
    # Outgoing server-to-server reads (the portal reading the timeline, signing fetching PDFs) carry
    # the W3C trace context, so the called service's spans join the caller's trace.
    HTTPXClientInstrumentor().instrument(tracer_provider=provider)
    return provider


class JsonFormatter(logging.Formatter):
    def __init__(self, service: str):
        super().__init__()
        self.service = service

    def format(self, record: logging.LogRecord) -> str:
        span = trace.get_current_span().get_span_context()
        entry = {
            "time": self.formatTime(record),
            "level": record.levelname,
            "service": self.service,
            "logger": record.name,
            "message": record.getMessage(),
        }
        if span.is_valid:
            entry["trace_id"], entry["span_id"] = f"{span.trace_id:032x}", f"{span.span_id:016x}"
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False)


class Throttle(logging.Filter):
    """Lets one line of each kind from `prefix` loggers through per `every` seconds, with how many it held back.

    While the broker restarts aiokafka logs every failed reconnect at ERROR (several a second per
    client); the first line says what is going on, the rest would bury everything else."""

    def __init__(
        self, prefix: str = "aiokafka", every: float = 30.0, clock: Callable[[], float] = time.monotonic
    ) -> None:
        super().__init__()
        self.prefix, self.every, self.clock = prefix, every, clock
        self.last: dict[tuple[str, object], tuple[float, int]] = {}

    def filter(self, record: logging.LogRecord) -> bool:
        if not record.name.startswith(self.prefix):
            return True
        key, now = (record.name, record.msg), self.clock()
        shown, held = self.last.get(key, (float("-inf"), 0))
        if now - shown < self.every:
            self.last[key] = (shown, held + 1)
            return False
        self.last[key] = (now, 0)
        if held:
            record.msg = f"{record.msg} ({held} more like this in the last {now - shown:.0f} s)"
        return True


class SettlingMetadata(logging.Filter):
    """aiokafka logs at ERROR when a partition's leader is moving or not yet serving (NotLeaderForPartition,
    LeaderNotAvailable: metadata out of date) and then refreshes its metadata and retries. On a fresh broker
    every consumer meets this for a moment; it is a warning, not an error."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno == logging.ERROR and record.name.startswith("aiokafka") and _settling(record.args):
            record.levelno, record.levelname = logging.WARNING, "WARNING"
        return True


def _settling(args: object) -> bool:
    values = args if isinstance(args, tuple) else ()
    return any(isinstance(v, KafkaError) and v.retriable and getattr(v, "invalid_metadata", False) for v in values)


def setup_logging(service_name: str) -> None:
    handler = logging.StreamHandler()
    handler.setFormatter(JsonFormatter(service_name))
    handler.addFilter(SettlingMetadata())
    handler.addFilter(Throttle())
    logging.basicConfig(level=logging.INFO, handlers=[handler], force=True)
    # aiokafka is chatty about every reconnect attempt while the broker is away.
    logging.getLogger("aiokafka").setLevel(logging.ERROR)
