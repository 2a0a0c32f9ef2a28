"""Webhooks, the pure part: Standard Webhooks signatures, URLs we send to, the retry schedule."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from pydantic import ValidationError

from services.automation.addresses import parse_networks
from services.automation.webhooks import EndpointSpec, RetryPolicy, check_url, new_secret, next_attempt, sign

T0 = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)


def test_the_signature_matches_the_standard_webhooks_reference_vector():
    # The example from the Standard Webhooks specification's test suite
    assert (
        sign(
            "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
            "msg_p5jXN8AQM9LWM0D4loKWxJek",
            1614265330,
            b'{"test": 2432232314}',
        )
        == "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
    )


def test_each_endpoint_gets_its_own_random_secret():
    first, second = new_secret(), new_secret()
    assert first.startswith("whsec_") and first != second


LOOPBACK = parse_networks("127.0.0.0/8,::1")


def test_only_https_urls_receive_webhooks_except_allowed_networks_in_development():
    assert check_url("https://example.com/hook") is None
    assert check_url("http://example.com/hook", allowed=LOOPBACK) is not None
    assert check_url("http://127.0.0.1:9000/hook", allowed=LOOPBACK) is None
    assert check_url("http://127.0.0.1:9000/hook") is not None
    assert check_url("https://127.0.0.1:9000/hook") is not None


@pytest.mark.parametrize(
    "url",
    [
        "https://10.0.0.5/hook",
        "https://169.254.169.254/latest",
        "https://localhost/x",
        "https://[::1]/x",
        "https://kafka.internal/x",
        "https://192.168.1.1/x",
        # every spelling of loopback the C resolver accepts
        "https://127.1/",
        "https://2130706433/",
        "https://0x7f000001/",
        "https://0177.0.0.1/",
        "https://127.0.0.1./",
        "https://0x7f.1/",
        "https://[::ffff:127.0.0.1]/",
        "https://[::ffff:7f00:1]/",
        # private, link-local, CGNAT, unspecified, multicast, reserved, metadata; IPv4 inside IPv6
        "https://172.16.0.1/",
        "https://100.64.0.1/",
        "https://0.0.0.0/",
        "https://0/",
        "https://224.0.0.1/",
        "https://240.0.0.1/",
        "https://255.255.255.255/",
        "https://[fe80::1]/",
        "https://[fd00:ec2::254]/",
        "https://[fc00::1]/",
        "https://[::]/",
        "https://[ff02::1]/",
        "https://[64:ff9b::a9fe:a9fe]/",
        "https://[2002:a00:1::]/",
        "https://100.100.100.200/",
        "https://0xa9fea9fe/",
    ],
)
def test_an_endpoint_cannot_point_into_a_private_network_however_it_is_spelled(url):
    assert check_url(url).startswith("the URL must point to a public host")


@pytest.mark.parametrize("url", ["https://8.8.8.8/hook", "https://[2606:4700::1111]/", "https://hooks.example.com/"])
def test_public_addresses_and_names_are_accepted_at_registration(url):
    assert check_url(url) is None


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


def test_a_delivery_lease_that_could_end_during_an_attempt_is_refused():
    from services.automation.config import Settings

    assert Settings(webhook_timeout_seconds=10, webhook_lease_seconds=60).webhook_lease_seconds == 60
    with pytest.raises(ValidationError, match="LEASE_SECONDS must be longer"):
        Settings(webhook_timeout_seconds=10, webhook_lease_seconds=10)
