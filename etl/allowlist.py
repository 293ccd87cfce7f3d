"""ETL_SOURCE_ALLOW, the operator's exceptions to the outbound policy (etl/sources/outbound.py):
parsed here, below the settings, so a bad entry stops startup with a message that names it."""
from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass

from etl.errors import Invalid

Address = ipaddress.IPv4Address | ipaddress.IPv6Address


HOST_NAME = re.compile(r"^(?=.{1,253}$)([a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9])?)(\.[a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9])?)*$")


class InvalidAllowEntry(Invalid, ValueError):
    pass


@dataclass(frozen=True)
class AllowRule:
    network: ipaddress.IPv4Network | ipaddress.IPv6Network | None = None
    host: str | None = None
    port: int | None = None  # None: any port

    def allows(self, host: str, address: Address | None, port: int) -> bool:
        if self.port is not None and self.port != port:
            return False
        if self.host is not None:
            return self.host == host
        return address is not None and address.version == self.network.version and address in self.network


def parse_allow_list(text: str) -> tuple[AllowRule, ...]:
    """ETL_SOURCE_ALLOW as rules; InvalidAllowEntry names the entry that is not a CIDR, an
    address or a host name (with an optional port)."""
    return tuple(_parse_entry(entry.strip()) for entry in (text or "").split(",") if entry.strip())


def _parse_entry(entry: str) -> AllowRule:
    target, port = _split_port(entry)
    try:
        return AllowRule(network=ipaddress.ip_network(target, strict=False), port=port)
    except ValueError:
        pass
    name = normalise_host(target)
    if not HOST_NAME.match(name) or name.replace(".", "").isdigit():
        raise InvalidAllowEntry(f"ETL_SOURCE_ALLOW entry {entry!r} is not a CIDR, an IP address or a host name "
                                "(each optionally with :port), e.g. 10.0.0.0/8,jira.internal,127.0.0.1:8080")
    return AllowRule(host=name, port=port)


def _split_port(entry: str) -> tuple[str, int | None]:
    """`host:port`, `[v6]:port`, `a.b.c.d/n:port`; a bare IPv6 address has no port."""
    if entry.startswith("["):
        address, _, rest = entry[1:].partition("]")
        port = rest[1:] if rest.startswith(":") else None
        if rest and port is None:
            raise InvalidAllowEntry(f"ETL_SOURCE_ALLOW entry {entry!r}: write [IPv6]:port")
        return address, _port(entry, port)
    if entry.count(":") == 1:
        target, _, port = entry.partition(":")
        return target, _port(entry, port)
    return entry, None


def normalise_host(host: str) -> str:
    return host.strip("[]").rstrip(".").lower()


def _port(entry: str, value: str | None) -> int | None:
    if value is None:
        return None
    if not value.isdigit() or not 0 < int(value) < 65536:
        raise InvalidAllowEntry(f"ETL_SOURCE_ALLOW entry {entry!r}: the port must be a number from 1 to 65535")
    return int(value)
