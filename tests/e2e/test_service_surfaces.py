"""What every running service exposes to operators, and what it keeps from the public."""

from __future__ import annotations

import httpx
import pytest

from services.runtime.config import DEV_SECRET
from tests.support.stack import SERVICES


@pytest.mark.parametrize("name", SERVICES)
def test_each_service_serves_health_readiness_metrics_and_its_api_documents(running, name):
    url = running.running[name].url
    assert httpx.get(f"{url}/healthz").json()["status"] == "ok"
    assert httpx.get(f"{url}/readyz").json() == {"status": "ready", "database": True, "broker": True}
    assert "akkoord_http_request_duration_seconds" in httpx.get(f"{url}/metrics").text
    assert httpx.get(f"{url}/openapi.json").json()["info"]["title"]
    asyncapi = httpx.get(f"{url}/asyncapi.json")
    assert asyncapi.status_code == 200 and asyncapi.json()["channels"]


def test_internal_reads_refuse_requests_that_came_through_a_proxy_even_with_the_token(running):
    portal = running.running["portal"].url
    direct = httpx.get(f"{portal}/internal/v1/signatures/unknown", headers={"X-Internal-Token": DEV_SECRET})
    proxied = httpx.get(f"{portal}/internal/v1/signatures/unknown",
                        headers={"X-Internal-Token": DEV_SECRET, "X-Forwarded-For": "203.0.113.9"})
    assert direct.status_code == 404 and "signature" in direct.text.lower()
    assert proxied.status_code == 404 and proxied.json()["detail"] == "Not found"
