"""Where webhooks may go: public addresses only, however a host is spelled.

A tenant chooses the URL, so it must not reach Akkoord's own network (the database, the broker, a cloud
metadata service). IPv4 is parsed the way the C resolver does (`127.1`, `2130706433`, `0x7f000001`,
`0177.0.0.1` are all 127.0.0.1), IPv6 forms that carry an IPv4 address are judged by that address, and a
name is judged by every address it resolves to, at send time (see adapters/webhook_sender.py).
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Iterable

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

# Not covered by `is_global` everywhere, or worth naming: cloud metadata services.
METADATA = (
    ipaddress.ip_network("169.254.169.254/32"),
    ipaddress.ip_network("fd00:ec2::254/128"),
    ipaddress.ip_network("100.100.100.200/32"),
)
NAT64 = ipaddress.ip_network("64:ff9b::/96")
INTERNAL_NAMES = ("localhost", ".localhost", ".internal", ".local", ".localdomain", ".home.arpa")


def literal_address(host: str) -> IPAddress | None:
    """The address a host literal stands for, in any spelling a resolver accepts; None for a name."""
    host = host.strip("[]").rstrip(".")
    try:
        return ipaddress.ip_address(host.split("%", 1)[0])
    except ValueError:
        pass
    try:
        # inet_aton takes the legacy forms: one to four parts, each decimal, octal (0...) or hex (0x...).
        return ipaddress.IPv4Address(socket.inet_aton(host))
    except OSError:
        return None


def parse_networks(spec: str) -> tuple[IPNetwork, ...]:
    """`127.0.0.0/8, ::1` -> networks; an empty spec allows nothing."""
    return tuple(ipaddress.ip_network(part.strip(), strict=False) for part in spec.split(",") if part.strip())


def _embedded_ipv4(address: IPAddress) -> ipaddress.IPv4Address | None:
    if isinstance(address, ipaddress.IPv4Address):
        return None
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address.sixtofour is not None:
        return address.sixtofour
    if address.teredo is not None:
        return address.teredo[1]
    if address in NAT64:
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return None


def refusal(address: IPAddress, allowed: Iterable[IPNetwork] = ()) -> str | None:
    """Why webhooks may not go to `address`, or None. `allowed` networks pass (development receivers)."""
    if any(address in network for network in allowed):
        return None
    if (inner := _embedded_ipv4(address)) is not None:
        return refusal(inner, allowed)
    if any(address in network for network in METADATA):
        return f"{address} is a cloud metadata address"
    for kind, test in (
        ("loopback", address.is_loopback),
        ("unspecified", address.is_unspecified),
        ("link-local", address.is_link_local),
        ("multicast", address.is_multicast),
        ("private", address.is_private),
        ("reserved", address.is_reserved),
    ):
        if test:
            return f"{address} is {'an' if kind[0] in 'aeiou' else 'a'} {kind} address"
    if not address.is_global:  # shared address space (CGNAT, 100.64.0.0/10), benchmarking, documentation...
        return f"{address} is not a public address"
    return None


def internal_name(host: str) -> bool:
    host = host.lower().rstrip(".")
    return host == "localhost" or host.endswith(INTERNAL_NAMES)
