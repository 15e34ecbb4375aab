"""Address allocation: private IPs from a subnet's CIDR, public IPs from a region's pool.

Allocation is sequential with a moving cursor plus a set of addresses in use, so creating thousands of
instances stays linear. Released addresses become free again but are only reused once the cursor wraps.
"""

from __future__ import annotations

import ipaddress

# Tencent keeps the network address, the gateway (first host) and the broadcast address of every subnet.
RESERVED_PER_SUBNET = 3


class AddressPool:
    """Hosts of one IPv4 network, handed out in order and skipping those in use."""

    def __init__(self, cidr: str, *, first_offset: int, last_offset: int) -> None:
        self.network = ipaddress.IPv4Network(cidr)
        self._first = int(self.network.network_address) + first_offset
        self._last = int(self.network.broadcast_address) - last_offset
        self._used: set[int] = set()
        self._cursor = self._first

    @property
    def capacity(self) -> int:
        return max(0, self._last - self._first + 1)

    @property
    def in_use(self) -> int:
        return len(self._used)

    @property
    def available(self) -> int:
        return self.capacity - self.in_use

    def contains(self, address: str) -> bool:
        value = int(ipaddress.IPv4Address(address))
        return self._first <= value <= self._last

    def is_free(self, address: str) -> bool:
        return int(ipaddress.IPv4Address(address)) not in self._used

    def take(self, address: str) -> None:
        """Mark a given address used (fixtures, explicit PrivateIpAddresses); caller checked `contains`."""
        self._used.add(int(ipaddress.IPv4Address(address)))

    def allocate(self) -> str | None:
        """The next free address, or None when the pool is full."""
        if self.available <= 0:
            return None
        value = self._cursor
        while value in self._used:
            value = value + 1 if value < self._last else self._first
        self._used.add(value)
        self._cursor = value + 1 if value < self._last else self._first
        return str(ipaddress.IPv4Address(value))

    def release(self, address: str) -> None:
        self._used.discard(int(ipaddress.IPv4Address(address)))


def subnet_pool(cidr: str) -> AddressPool:
    # the network address and gateway lead the range, the broadcast address ends it
    return AddressPool(cidr, first_offset=2, last_offset=1)


def public_pool(cidr: str) -> AddressPool:
    return AddressPool(cidr, first_offset=1, last_offset=1)


def is_ipv4(value: str) -> bool:
    try:
        ipaddress.IPv4Address(value)
    except ValueError:
        return False
    return True
