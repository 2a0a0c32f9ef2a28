"""What every running service exposes to operators, and what it keeps from the public."""

from __future__ import annotations

import httpx
import pytest

from services.runtime.config import DEV_SECRET
from tests.support.stack import SERVICES

OPERATIONS = ("/metrics", "/docs", "/redoc", "/openapi.json", "/asyncapi.json")


@pytest.mark.parametrize("name", SERVICES)
def test_each_service_serves_health_readiness_metrics_and_its_api_documents_on_its_operations_port(running, name):
    url, ops = running.running[name].url, running.running[name].ops_url
    for base in (url, ops):
        assert httpx.get(f"{base}/healthz").json()["status"] == "ok"
        assert httpx.get(f"{base}/readyz").json() == {"status": "ready", "database": True, "broker": True}
    assert "akkoord_http_request_duration_seconds" in httpx.get(f"{ops}/metrics").text
    assert httpx.get(f"{ops}/openapi.json").json()["info"]["title"]
    assert "swagger-ui" in httpx.get(f"{ops}/docs").text and "redoc" in httpx.get(f"{ops}/redoc").text
    asyncapi = httpx.get(f"{ops}/asyncapi.json")
    assert asyncapi.status_code == 200 and asyncapi.json()["channels"]


@pytest.mark.parametrize("name", SERVICES)
def test_the_public_port_serves_no_metrics_and_no_api_documents(running, name):
    url = running.running[name].url
    for path in OPERATIONS:
        response = httpx.get(f"{url}{path}")
        assert response.status_code == 404, (path, response.status_code)
        assert "akkoord_" not in response.text and "openapi" not in response.text.lower()


def test_internal_reads_refuse_requests_that_came_through_a_proxy_even_with_the_token(running):
    portal = running.running["portal"].url
    direct = httpx.get(f"{portal}/internal/v1/signatures/unknown", headers={"X-Internal-Token": DEV_SECRET})
    proxied = httpx.get(
        f"{portal}/internal/v1/signatures/unknown",
        headers={"X-Internal-Token": DEV_SECRET, "X-Forwarded-For": "203.0.113.9"},
    )
    assert direct.status_code == 404 and "signature" in direct.text.lower()
    assert proxied.status_code == 404 and proxied.json()["detail"] == "Not found"
