"""The webhook sender refuses, at send time, a name that resolves to an address webhooks may not reach."""

from __future__ import annotations

import pytest

from services.automation.adapters.webhook_sender import WebhookSender


def resolving_to(*addresses: str):
    asked: list[str] = []

    async def resolver(host: str, port: int) -> list[str]:
        asked.append(host)
        return list(addresses)

    resolver.asked = asked
    return resolver


@pytest.mark.parametrize(
    "address",
    [
        "127.0.0.1",
        "10.1.2.3",
        "169.254.169.254",
        "100.64.1.1",
        "::1",
        "fe80::1",
        "::ffff:10.0.0.1",
        "0.0.0.0",
        "224.0.0.5",
        "fd00:ec2::254",
    ],
)
async def test_a_name_that_resolves_to_an_internal_address_is_refused_before_connecting(address):
    # given a name whose DNS answer is internal
    resolver = resolving_to(address)
    sender = WebhookSender(2, resolver=resolver)
    # when a webhook is sent to it
    status, error = await sender.post("https://hooks.attacker.example/x", b"{}", {})
    # then nothing is sent, and the attempt says why
    assert status is None and error.startswith("refused: ") and address.split("::ffff:")[-1] in error
    assert resolver.asked == ["hooks.attacker.example"]
    await sender.close()


async def test_a_name_with_one_internal_address_among_public_ones_is_refused():
    sender = WebhookSender(2, resolver=resolving_to("93.184.216.34", "10.0.0.1"))
    status, error = await sender.post("https://hooks.example.com/x", b"{}", {})
    assert status is None and "10.0.0.1 is a private address" in error
    await sender.close()


@pytest.mark.parametrize(
    "url",
    [
        "https://127.1/",
        "https://2130706433/",
        "https://0x7f000001/",
        "https://0177.0.0.1/",
        "https://[::ffff:127.0.0.1]/",
    ],
)
async def test_a_literal_loopback_in_any_spelling_is_refused_at_send_time_too(url):
    resolver = resolving_to("8.8.8.8")  # never asked: a literal is its own address
    sender = WebhookSender(2, resolver=resolver)
    status, error = await sender.post(url, b"{}", {})
    assert status is None and "127.0.0.1 is a loopback address" in error and resolver.asked == []
    await sender.close()
