"""Request metrics are labelled from a closed set: a client cannot make new series."""

from __future__ import annotations

import secrets

from fastapi import FastAPI
from fastapi.testclient import TestClient
from prometheus_client import REGISTRY

from services.runtime import metrics


def _series() -> set[tuple[str, str, str]]:
    return {
        (s.labels["method"], s.labels["route"], s.labels["status"])
        for family in REGISTRY.collect()
        if family.name == "akkoord_http_request_duration_seconds"
        for s in family.samples
        if s.name.endswith("_count")
    }


def test_random_methods_and_paths_create_no_new_series():
    # given an app with one route, measured
    app = FastAPI()
    metrics.install(app)

    @app.get("/v1/things/{thing_id}")
    async def thing(thing_id: str) -> dict:
        return {"id": thing_id}

    client = TestClient(app)
    for warm_up in ("GET", "BREW", "PROPFIND"):
        client.request(warm_up, f"/v1/things/{secrets.token_hex(4)}")
        client.request(warm_up, f"/nowhere/{secrets.token_hex(4)}")
    before = _series()
    # when clients send made-up methods and paths
    for _ in range(20):
        client.request(secrets.token_hex(3).upper(), f"/{secrets.token_hex(8)}/{secrets.token_hex(8)}")
        client.request(secrets.token_hex(3).upper(), f"/v1/things/{secrets.token_hex(8)}")
        client.get(f"/v1/things/{secrets.token_hex(8)}")
    # then no series was added: they count under "other", the route template and "unmatched"
    assert _series() == before
    assert ("other", "/v1/things/{thing_id}", "405") in before
    assert ("other", metrics.UNMATCHED_ROUTE, "404") in before
    assert ("GET", "/v1/things/{thing_id}", "200") in before
