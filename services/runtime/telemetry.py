"""OpenTelemetry: one tracer provider per process, OTLP export when an endpoint is configured."""

from __future__ import annotations

import logging

from opentelemetry import trace
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
    return provider


def setup_logging(service_name: str) -> None:
    logging.basicConfig(level=logging.INFO, format=f"%(asctime)s {service_name} %(levelname)s %(name)s: %(message)s")
    # aiokafka is chatty about every reconnect attempt while the broker is away.
    logging.getLogger("aiokafka").setLevel(logging.ERROR)
