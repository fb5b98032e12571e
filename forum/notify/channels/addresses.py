"""Where a webhook may point: a strict URL check when saved, an address check when sent.

A webhook makes the Exchange open connections on a coordinator's behalf. Without checks it is a
way into the machine's own network (server-side request forgery: cloud metadata at
169.254.169.254, an admin port on loopback, a database on 10.x) and a port scanner. So:

- when an address is saved, it is parsed strictly (RFC 3986 characters only, a real host name or
  IP literal, a valid port, no user name, https) and an IP literal or `localhost` that is not a
  public unicast address is refused;
- when a delivery is sent, the host name is resolved once, EVERY address it resolves to must be
  public (else nothing is sent), and the connection goes to that checked address (no second
  lookup, so no DNS-rebinding window); redirects are never followed;
- `delivery.webhook_allow_hosts` (host names, IP addresses, CIDR networks) lets a deployment
  with an internal receiver through, over http too.
Host names are not resolved when saved: that would make saving depend on the network, and the
send-time check is the one that counts.
"""

from __future__ import annotations

import http.client
import ipaddress
import re
import socket
import ssl
from dataclasses import dataclass
from typing import Any
from urllib.parse import SplitResult, urlsplit

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

MAX_URL_LENGTH = 500
# RFC 3986: unreserved, reserved and percent-encoded characters only (no space, no control).
_URL_CHARACTERS = re.compile(r"^(?:[A-Za-z0-9\-._~:/?#\[\]@!$&'()*+,;=]|%[0-9A-Fa-f]{2})+$")
_LABEL = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$")
_NAT64 = ipaddress.ip_network("64:ff9b::/96")


class AddressRefused(Exception):
    """The address is not one a webhook may reach (the reason stays out of logs and pages)."""


@dataclass(frozen=True)
class AllowList:
    """Hosts and networks a deployment trusts as webhook receivers (internal ones included)."""

    names: frozenset[str] = frozenset()
    networks: tuple[IPNetwork, ...] = ()

    @classmethod
    def parse(cls, text: str) -> AllowList:
        """From "hooks.internal, 10.1.2.3, 192.168.0.0/16"; ValueError names a bad entry."""
        names: set[str] = set()
        networks: list[IPNetwork] = []
        for entry in re.split(r"[,\s]+", text.strip()):
            if not entry:
                continue
            try:
                networks.append(ipaddress.ip_network(entry, strict=False))
                continue
            except ValueError:
                pass
            if not _is_host_name(entry.lower()):
                raise ValueError(entry)
            names.add(entry.lower())
        return cls(frozenset(names), tuple(networks))

    def allows(self, host: str, address: IPAddress | None = None) -> bool:
        """True when this host name, or this address, is on the list."""
        if host.lower() in self.names:
            return True
        return address is not None and any(address in network for network in self.networks)


def is_public(address: IPAddress) -> bool:
    """A public unicast address (not private, loopback, link-local, multicast, reserved…)."""
    if isinstance(address, ipaddress.IPv6Address):
        embedded = address.ipv4_mapped or address.sixtofour
        if embedded is None and address.teredo is not None:
            embedded = address.teredo[1]
        if embedded is None and address in _NAT64:
            embedded = ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
        if embedded is not None and not is_public(embedded):
            return False
    return bool(
        address.is_global
        and not (
            address.is_multicast
            or address.is_private
            or address.is_loopback
            or address.is_link_local
            or address.is_reserved
            or address.is_unspecified
        )
    )


def _is_host_name(host: str) -> bool:
    labels = host.rstrip(".").split(".")
    if len(host) > 253 or not all(_LABEL.match(label) for label in labels):
        return False
    # "2130706433", "0x7f.1", "017700000001": numbers a resolver reads as IPv4 addresses.
    last = labels[-1]
    return not (last.isdigit() or re.fullmatch(r"0x[0-9a-f]*", last))


def literal(host: str) -> IPAddress | None:
    """The IP address a host is written as, if it is one."""
    try:
        return ipaddress.ip_address(host.split("%", 1)[0])
    except ValueError:
        return None


def parse(url: str) -> tuple[SplitResult, str, int]:
    """Split a webhook address strictly; ValueError with a plain sentence when it is not one."""
    if len(url) > MAX_URL_LENGTH:
        raise ValueError(f"The address is longer than {MAX_URL_LENGTH} characters.")
    if not _URL_CHARACTERS.match(url):
        raise ValueError(
            "This is not a valid web address (spaces and other special characters must be "
            "percent-encoded)."
        )
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
        port = parts.port
    except ValueError:
        raise ValueError("This is not a valid web address.") from None
    if parts.scheme not in ("https", "http"):
        raise ValueError("Webhooks are sent over https only.")
    if parts.username is not None or parts.password is not None:
        raise ValueError(
            "The address may not carry a user name or password; use the signing secret."
        )
    if not host:
        raise ValueError("The address needs a host name.")
    if literal(host) is None and not _is_host_name(host):
        raise ValueError("This is not a valid host name.")
    if port == 0:
        raise ValueError("This is not a valid port.")
    return parts, host, port or (443 if parts.scheme == "https" else 80)


def problem(url: str, allow: AllowList) -> str | None:
    """Why an address may not be saved, in a plain sentence (None: it may)."""
    try:
        parts, host, _port = parse(url)
    except ValueError as error:
        return str(error)
    address = literal(host)
    allowed = allow.allows(host, address)
    if parts.scheme != "https" and not allowed:
        return "Webhooks are sent over https only."
    internal_name = host in ("localhost", "localhost.") or host.endswith(".localhost")
    if not allowed and (internal_name or (address is not None and not is_public(address))):
        return (
            "Webhooks may not point at a private, loopback, link-local or multicast address "
            "(an internal receiver must be on delivery.webhook_allow_hosts)."
        )
    return None


def resolve(host: str, port: int) -> list[IPAddress]:
    """Every address `host` resolves to (a seam: tests give their own resolution)."""
    found = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return [ipaddress.ip_address(str(info[4][0]).split("%", 1)[0]) for info in found]


def checked_address(host: str, port: int, allow: AllowList) -> IPAddress:
    """The one address to connect to, after resolving `host` once and checking every answer."""
    address = literal(host)
    if address is not None:
        found = [address]
    else:
        try:
            found = resolve(host, port)
        except (OSError, UnicodeError, ValueError):
            raise AddressRefused("unresolved") from None
    if not found:
        raise AddressRefused("unresolved")
    for candidate in found:
        if not is_public(candidate) and not allow.allows(host, candidate):
            raise AddressRefused("not public")
    return found[0]


def pinned_connection(
    scheme: str, host: str, port: int, address: IPAddress, timeout: float
) -> http.client.HTTPConnection:
    """A connection to the checked `address`, speaking to `host` (TLS name and Host header):
    no second lookup, so no DNS-rebinding window between the check and the connection."""
    connection: http.client.HTTPConnection
    if scheme == "https":
        connection = http.client.HTTPSConnection(
            host, port, timeout=timeout, context=ssl.create_default_context()
        )
    else:
        connection = http.client.HTTPConnection(host, port, timeout=timeout)

    def pinned(_address: Any, timeout: Any = None, source: Any = None) -> socket.socket:
        return socket.create_connection((str(address), port), timeout, source)

    connection._create_connection = pinned  # type: ignore[attr-defined]
    return connection
