"""Loopback networking for tests: free ports and the loopback check of the network guard."""

from __future__ import annotations

import ipaddress
import socket
from typing import Any


def free_port() -> int:
    """A loopback TCP port nobody listens on right now (connections to it are refused)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def is_loopback(address: Any) -> bool:
    """True when a socket address points at this machine (unix sockets count as local)."""
    if isinstance(address, tuple) and address:
        host = address[0]
    else:
        return True  # unix sockets and the like
    if host in ("localhost", ""):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
