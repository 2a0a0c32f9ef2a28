"""Every service documents its HTTP API (OpenAPI) and its Kafka subscribers (AsyncAPI)."""

from __future__ import annotations

import importlib

import pytest
from faststream.specification import AsyncAPI

SERVICES = ("tasks", "portal", "signing", "documents", "timeline", "automation")


@pytest.mark.parametrize("name", SERVICES)
def test_the_service_builds_and_describes_its_http_api_and_its_subscribers(name):
    # building wires everything but connects to nothing (clients connect in the lifespan)
    settings = importlib.import_module(f"services.{name}.config").Settings()
    app = importlib.import_module(f"services.{name}.bootstrap").build_app(settings)
    openapi = app.openapi()
    assert {"/healthz", "/readyz"} <= set(openapi["paths"])
    summaries = [op.get("summary") for path in openapi["paths"].values() for op in path.values()]
    assert all(summaries), "every route has a summary"
    spec = AsyncAPI(app.state.service.runtime.broker, title=name).to_specification().to_jsonable()
    channels = spec["channels"]
    assert channels, "the service's subscribers are listed"
    assert all(ch.get("description") for ch in channels.values()), "every subscriber says what it does"
