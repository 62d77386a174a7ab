"""Where a webhook may be sent: never to this machine, its link-local neighbours (the cloud
metadata service at 169.254.169.254), private networks or other special addresses, unless the
operator lists the host. Checked on the addresses a host resolves to, so a name that
resolves inward is refused like the address itself.

    refusal = refused_address(ipaddress.ip_address("10.0.0.1"))   # "a private address"
    check_destination("hooks.example.com", ["203.0.113.9"], allow=())  # raises ValueError

Pure: the caller resolves."""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable

Address = ipaddress.IPv4Address | ipaddress.IPv6Address
CGNAT = ipaddress.ip_network("100.64.0.0/10")  # carrier-grade NAT: not the public internet


def refused_address(ip: Address) -> str | None:
    """Why `ip` may not receive webhooks, or None when it is a public address."""
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    checks = (
        (ip.is_loopback, "a loopback address"),
        (ip.is_link_local, "a link-local address (the cloud metadata service lives there)"),
        (ip.is_unspecified, "the unspecified address"),
        (ip.is_multicast, "a multicast address"),
        (isinstance(ip, ipaddress.IPv4Address) and ip in CGNAT, "a shared (CGNAT) address"),
        (ip.is_private, "a private address"),
        (ip.is_reserved, "a reserved address"),
    )
    return next((reason for hit, reason in checks if hit), None)


def check_destination(
    host: str, addresses: Iterable[str], allow: Iterable[str] = (), *, must_resolve: bool = True
) -> None:
    """ValueError unless every address `host` resolves to is public, or the host (or one of
    its addresses) is listed in `allow`. A host that resolves to nothing is refused only when
    `must_resolve` (at send time; when a subscription is added it may not exist yet)."""
    allowed = {a.strip().lower() for a in allow if a.strip()}
    resolved = list(addresses)
    if host.lower() in allowed or allowed & set(resolved):
        return
    if not resolved and must_resolve:
        raise ValueError(f"webhook host {host} does not resolve")
    for text in resolved:
        reason = refused_address(ipaddress.ip_address(text))
        if reason is not None:
            raise ValueError(
                f"webhook host {host} resolves to {text}, {reason}: refused (list it in "
                "PRIMEVOD_WEBHOOK_ALLOW_HOSTS to allow it)"
            )
