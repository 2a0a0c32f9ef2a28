"""Webhooks, the pure part: Standard Webhooks signatures, URLs we send to, the retry schedule."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from pydantic import ValidationError

from services.automation.webhooks import EndpointSpec, RetryPolicy, check_url, new_secret, next_attempt, sign

T0 = datetime(2026, 11, 30, 9, 0, tzinfo=timezone.utc)


def test_the_signature_matches_the_standard_webhooks_reference_vector():
    # The example from the Standard Webhooks specification's test suite
    assert sign("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330,
                b'{"test": 2432232314}') == "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="


def test_each_endpoint_gets_its_own_random_secret():
    first, second = new_secret(), new_secret()
    assert first.startswith("whsec_") and first != second


def test_only_https_urls_receive_webhooks_except_loopback_in_development():
    assert check_url("https://example.com/hook", allow_plain_http_loopback=False) is None
    assert check_url("http://example.com/hook", allow_plain_http_loopback=True) is not None
    assert check_url("http://127.0.0.1:9000/hook", allow_plain_http_loopback=True) is None
    assert check_url("http://127.0.0.1:9000/hook", allow_plain_http_loopback=False) is not None


@pytest.mark.parametrize("url", ["https://10.0.0.5/hook", "https://169.254.169.254/latest", "https://localhost/x",
                                 "https://[::1]/x", "https://kafka.internal/x", "https://192.168.1.1/x"])
def test_outside_development_an_endpoint_cannot_point_into_a_private_network(url):
    assert check_url(url, allow_plain_http_loopback=False) == "the URL must point to a public host"


def test_an_endpoint_subscribes_to_known_public_event_types_only():
    assert EndpointSpec(url="https://x", event_types=["task.signed", "task.signed"]).event_types == ["task.signed"]
    with pytest.raises(ValidationError):
        EndpointSpec(url="https://x", event_types=["staff_key.issued"])
    with pytest.raises(ValidationError):
        EndpointSpec(url="https://x", event_types=["no.such_event"])


def test_retries_back_off_exponentially_up_to_a_cap_and_then_give_up():
    policy = RetryPolicy(base_seconds=5, max_delay_seconds=60, give_up_after_seconds=300)
    waits = [next_attempt(policy, T0, n, T0) - T0 for n in (1, 2, 3, 4, 5)]
    assert waits == [timedelta(seconds=s) for s in (5, 10, 20, 40, 60)]
    assert next_attempt(policy, T0, 6, T0 + timedelta(seconds=280)) is None
