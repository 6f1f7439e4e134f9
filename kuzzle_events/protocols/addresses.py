"""Which addresses of a connection to believe: ``X-Forwarded-For`` only through trusted proxies.

An adapter puts the whole chain on ``connection.ips``: the ``X-Forwarded-For`` entries, then the
peer (the address the socket is connected to). Anybody can write that header, so an entry is kept
only when the address to its right is a proxy of ``TRUSTED_PROXIES``: read from the right, the chain
stops at the first address that is not a trusted proxy. The first address left is the client's,
the one login throttling counts.
"""

from __future__ import annotations

import functools
import ipaddress
from collections.abc import Sequence

__all__ = ["TrustedProxies", "forwarded_chain", "trusted_chain", "trusted_proxies", "parse_networks"]

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def parse_networks(values: Sequence[str]) -> tuple[Network, ...]:
    """The networks of ``TRUSTED_PROXIES`` (addresses or CIDRs); ``ValueError`` naming a bad one."""
    networks = []
    for value in values:
        try:
            networks.append(ipaddress.ip_network(value.strip(), strict=False))
        except ValueError:
            raise ValueError(f"{value!r} is not an IP address or network") from None
    return tuple(networks)


class TrustedProxies:
    """The proxies whose ``X-Forwarded-For`` is believed."""

    __slots__ = ("networks",)

    def __init__(self, networks: Sequence[Network]) -> None:
        self.networks = tuple(networks)

    def __contains__(self, address: object) -> bool:
        if not self.networks or not isinstance(address, str):
            return False
        try:
            ip = ipaddress.ip_address(address.strip())
        except ValueError:
            return False
        # An IPv4 peer seen through an IPv6 socket (::ffff:10.0.0.1) is that IPv4 address.
        mapped = getattr(ip, "ipv4_mapped", None)
        candidates = (ip, mapped) if mapped is not None else (ip,)
        return any(c in net for c in candidates for net in self.networks if c.version == net.version)


@functools.cache
def trusted_proxies(values: tuple[str, ...]) -> TrustedProxies:
    """``TRUSTED_PROXIES`` parsed once per value."""
    return TrustedProxies(parse_networks(values))


def forwarded_chain(headers: dict[str, str], peer: str | None) -> list[str]:
    """What an adapter puts on ``connection.ips``: the ``X-Forwarded-For`` entries, then the peer."""
    forwarded = headers.get("x-forwarded-for", "")
    ips = [ip.strip() for ip in forwarded.split(",") if ip.strip()] if forwarded else []
    if peer:
        ips.append(peer)
    return ips


def trusted_chain(ips: list[str], trusted: TrustedProxies) -> list[str]:
    """The part of ``ips`` (forwarded entries, then the peer) that trusted proxies vouch for."""
    if len(ips) <= 1:
        return ips
    start = len(ips) - 1
    while start > 0 and ips[start] in trusted:
        start -= 1
    return ips[start:]
