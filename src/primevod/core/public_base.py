"""The address links name (share links, signed playback URLs, the canary's target): the
configured public URL (`PRIMEVOD_PUBLIC_URL`) when there is one, else where the caller
reached this server (an API request's own scheme and host) or, with no request (the CLI,
schedules), this machine's server. Pure."""

from __future__ import annotations

# a server bound to every interface is reached on this machine through the loopback address
_LOOPBACK = {"": "127.0.0.1", "0.0.0.0": "127.0.0.1", "::": "[::1]", "[::]": "[::1]"}


def public_base(public_url: str | None, reached_at: str) -> str:
    """The base of the links: `public_url`, else `reached_at` (scheme://host[:port])."""
    return (public_url or reached_at).rstrip("/")


def local_server(host: str, port: int) -> str:
    """This machine's server at `host`:`port`, as a browser here would open it: a wildcard
    bind address (0.0.0.0, ::) is no address to open, so the loopback one stands for it."""
    host = _LOOPBACK.get(host, f"[{host}]" if ":" in host and not host.startswith("[") else host)
    return f"http://{host}:{port}"
