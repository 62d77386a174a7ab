"""Where a webhook's POST goes: the URL's host resolved once, every address checked
(core/net_guard.py), and the request sent to the checked address itself (with the host's
name in `Host` and in TLS's SNI), so a name that resolves differently a moment later (DNS
rebinding) cannot send it inward."""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Sequence
from dataclasses import dataclass
from urllib.parse import urlsplit, urlunsplit

from primevod.core.net_guard import check_destination

DEFAULT_PORTS = {"http": 80, "https": 443}


@dataclass(frozen=True)
class Target:
    url: str  # with the checked address in place of the host name
    host: str  # the `Host` header: the URL's own host[:port]
    sni: str | None  # the TLS server name (https only)


def resolve(host: str, port: int) -> list[str]:
    """The addresses `host` resolves to (itself, when it is an address); none when it does
    not resolve."""
    try:
        return [str(ipaddress.ip_address(host))]
    except ValueError:
        pass
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror:
        return []
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


def check_url(url: str, allow: Sequence[str], *, must_resolve: bool = False) -> list[str]:
    """The URL's checked addresses; ValueError for a URL that may not receive webhooks."""
    parts = urlsplit(url)
    if parts.scheme not in DEFAULT_PORTS or not parts.hostname:
        raise ValueError("webhook URL must be http:// or https:// with a host")
    port = parts.port or DEFAULT_PORTS[parts.scheme]
    addresses = resolve(parts.hostname, port)
    check_destination(parts.hostname, addresses, allow, must_resolve=must_resolve)
    return addresses


def target(url: str, allow: Sequence[str]) -> Target:
    """Resolve and check `url` now, for sending."""
    parts = urlsplit(url)
    address = check_url(url, allow, must_resolve=True)[0]
    literal = f"[{address}]" if ":" in address else address
    netloc = literal + (f":{parts.port}" if parts.port else "")
    pinned = urlunsplit((parts.scheme, netloc, parts.path or "/", parts.query, ""))
    return Target(
        pinned, parts.netloc.rpartition("@")[2], parts.hostname if parts.scheme == "https" else None
    )
