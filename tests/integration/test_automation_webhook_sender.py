"""One webhook attempt against loopback receivers that misbehave: a total deadline, a few KB read of the
answer, and the connection made to the address that was checked."""

from __future__ import annotations

import time

from services.automation.adapters.webhook_sender import WebhookSender
from services.automation.addresses import parse_networks
from tests.support.receivers import misbehaving_receiver

LOOPBACK = parse_networks("127.0.0.0/8")


async def test_a_receiver_that_trickles_its_answer_is_cut_off_at_the_deadline():
    async with misbehaving_receiver(trickle_every=0.1) as receiver:
        sender = WebhookSender(1.5, allowed=LOOPBACK)
        # when the receiver sends a header byte every 0.1 s (each read is quick, the answer never ends)
        started = time.monotonic()
        status, error = await sender.post(receiver.url("/trickle"), b"{}", {})
        # then the attempt ends at its deadline, as a failure
        assert time.monotonic() - started < 3
        assert status is None and "no answer within 1.5 s" in error
        await sender.close()


async def test_a_receiver_that_streams_a_huge_body_is_read_only_a_few_kilobytes():
    async with misbehaving_receiver() as receiver:
        sender = WebhookSender(5, max_response_bytes=4096, allowed=LOOPBACK)
        # when the receiver answers 200 and streams 10 GB
        started = time.monotonic()
        status, error = await sender.post(receiver.url("/huge"), b"{}", {})
        # then its status counts, and the sender stopped reading long before the deadline: what the receiver
        # could push is what fits in the sockets' buffers
        assert (status, error) == (200, None)
        assert time.monotonic() - started < 4
        assert receiver.body_bytes_sent < 64 * 1024 * 1024
        await sender.close()


async def test_the_connection_goes_to_the_address_that_was_checked():
    async with misbehaving_receiver() as receiver:
        asked: list[str] = []

        async def resolver(host: str, port: int) -> list[str]:
            asked.append(host)
            return ["127.0.0.1"]

        # given a name that no real DNS knows, resolved once by the sender to an allowed address
        sender = WebhookSender(5, allowed=LOOPBACK, resolver=resolver)
        status, error = await sender.post(receiver.url("/ok", host="hooks.nowhere.invalid"), b"{}", {})
        # then the request reached that address, once resolved, with the name kept as its Host
        assert (status, error) == (204, None)
        assert asked == ["hooks.nowhere.invalid"]
        assert receiver.requests == [("/ok", receiver.requests[0][1])]
        assert receiver.requests[0][1]["host"] == f"hooks.nowhere.invalid:{receiver.port}"
        await sender.close()


async def test_localhost_resolved_by_the_system_is_refused_without_an_allow_list():
    async with misbehaving_receiver() as receiver:
        sender = WebhookSender(5)
        status, error = await sender.post(receiver.url("/ok", host="localhost").replace("http:", "https:"), b"{}", {})
        assert status is None and "loopback" in error
        assert receiver.requests == []
        await sender.close()
