"""Where requests made on a tenant's behalf may go. Every tenant chooses the URL our workers and API
call, so without a policy a tenant could make them read internal services (server-side request
forgery). The policy, applied by the shared HTTP layer (etl/sources/http.py) to every connection:

- a host name is resolved once, each address is checked, and the connection goes to an address
  that was checked (a second lookup could answer differently: DNS rebinding);
- only public (globally routable, non-multicast) addresses pass: loopback, private, carrier-grade
  NAT, link-local, unique-local, multicast, reserved and unspecified ones are refused, also when
  written as IPv4-mapped, 6to4 or NAT64 IPv6 addresses;
- unless ETL_SOURCE_ALLOW allows them: comma-separated CIDRs or addresses, and host names, each
  optionally with `:port` (`10.0.0.0/8,jira.internal,127.0.0.1:8080,[fd00::1]:8443`). A host name
  allows whatever it resolves to: the operator vouches for the name. Nothing is allowed by default.
"""
from __future__ import annotations

import ipaddress
import logging
import socket
from functools import lru_cache
from urllib.parse import urlsplit

from etl.allowlist import Address, AllowRule, normalise_host, parse_allow_list
from etl.config import get_settings

log = logging.getLogger(__name__)

NAT64 = ipaddress.IPv6Network("64:ff9b::/96")
DEFAULT_PORTS = {"http": 80, "https": 443}


def origin(url: str) -> tuple[str, str, int]:
    """(scheme, host, port) of a URL, default ports filled in: what must stay the same for a
    request to go to the server the integration names."""
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    try:
        port = parts.port or DEFAULT_PORTS.get(scheme, 0)
    except ValueError:  # not a port: matches no base URL
        port = -1
    return scheme, normalise_host(parts.hostname or ""), port


def url_part_problem(url: str) -> str | None:
    """What a base URL must not carry, named; None when it is a plain http(s)://host[:port][/path].
    User info would add a second set of credentials, and a query or fragment would swallow the API
    paths appended to the base URL (`http://internal/page#` + `/rest/api/3/myself`)."""
    if any(c.isspace() or ord(c) < 32 or c == "\\" for c in url):
        return "contains spaces, control characters or backslashes"
    try:
        parts = urlsplit(url)
    except ValueError:  # e.g. an unclosed [IPv6 literal
        return "is not a valid URL"
    if "@" in parts.netloc:
        return "contains a user name or password (user@host); send them as credentials instead"
    if "?" in url:
        return "contains a query (?...); give the address only, without parameters"
    if "#" in url:
        return "contains a fragment (#...); give the address only"
    try:
        parts.port
    except ValueError:
        return "has an invalid port"
    if not parts.hostname:
        return "has no host name"
    return None


def _embedded_ipv4(address: Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 address stands for, when it is written as one."""
    if address.version == 4:
        return None
    if address in NAT64:
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return address.ipv4_mapped or address.sixtofour


def non_public_kind(address: Address) -> str | None:
    """Why an address is not public (a short name for messages), None when it is."""
    address = _embedded_ipv4(address) or address
    for kind, flag in (("unspecified", address.is_unspecified), ("loopback", address.is_loopback),
                       ("link-local", address.is_link_local), ("multicast", address.is_multicast),
                       ("private", address.is_private), ("reserved", address.is_reserved)):
        if flag:
            return kind
    return None if address.is_global else "non-public"


@lru_cache(maxsize=8)
def _rules(allow_text: str) -> tuple[AllowRule, ...]:
    return parse_allow_list(allow_text)


def allowed_rules() -> tuple[AllowRule, ...]:
    return _rules(get_settings().source_allow)


class Refused(Exception):
    """The policy refuses this destination. The message names the host and the kind of address,
    never the address itself (a tenant must not learn how internal names resolve)."""


def checked_addresses(host: str, port: int) -> list[str]:
    """The addresses of `host` that may be connected to, in resolver order. Raises Refused when
    none may, socket.gaierror when the name does not resolve."""
    name = normalise_host(host)
    rules = allowed_rules()
    infos = socket.getaddrinfo(name, port, type=socket.SOCK_STREAM)
    if any(rule.allows(name, None, port) for rule in rules if rule.host):
        return _unique(info[4][0] for info in infos)
    allowed, refused = [], []
    for info in infos:
        address = ipaddress.ip_address(info[4][0].split("%", 1)[0])  # drop an IPv6 zone id
        kind = non_public_kind(address)
        if kind is None or any(rule.allows(name, address, port) for rule in rules if rule.network):
            allowed.append(info[4][0])
        else:
            refused.append((address, kind))
    if not allowed:
        refused_kind = refused[0][1] if refused else "non-public"
        log.warning("outbound request to %s:%s refused: it resolves to %s", name, port,
                    ", ".join(f"{address} ({kind})" for address, kind in refused))
        raise Refused(f"refused to connect to {name}:{port}: it is a {refused_kind} address, and sources are reached "
                      "only at public addresses (an operator can allow a private host in ETL_SOURCE_ALLOW)")
    return _unique(allowed)


def _unique(addresses) -> list[str]:
    return list(dict.fromkeys(addresses))
