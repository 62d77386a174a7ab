"""Request rate limits (429 with `Retry-After`): per client address in ASGI middleware, before
routing, authentication or a body is read; and per API key once the key has authenticated
(`limit_key`, called by api/auth.py `caller`).

Keys are counted only after their secret checked out: counting on the key id from the header
before authentication would let anyone who knows (or guesses) an id spend that key's budget
with made-up secrets. Such requests are still counted against their own address.

The upload routes (/api/v1/uploads/...) have a budget of their own, higher, per address and per
key: a browser sends a signPart call and a part PUT for every part of a file. Player beacons
have one per address (`check_beacon`, applied by api/beacons.py, which answers them first), and so
have web console sign-ins (`limit_signin`, applied by api/session.py). Delivery
(/vod/) is not limited here: a player asks for a segment every few seconds per rendition,
and the edge's same-origin requests bypass the middleware anyway (api/edge.py FastEdge).

The counters are the `limits` package's sliding-window counters in this process's memory (two
counters per client and window, no background work): each server process counts on its
own. The address is the ASGI client address; behind a reverse proxy it is the proxy's unless
uvicorn is told to trust the proxy's X-Forwarded-For (FORWARDED_ALLOW_IPS=<proxy address>;
uvicorn trusts 127.0.0.1 by default)."""

from __future__ import annotations

import json
import math
import time
from dataclasses import dataclass
from typing import Any

from limits import RateLimitItem, parse_many
from limits.storage import MemoryStorage
from limits.strategies import SlidingWindowCounterRateLimiter

OFF = ("", "0", "off", "none")
UPLOADS = "/api/v1/uploads/"
EXEMPT = ("/healthz",)  # probes of a load balancer must never be throttled
UNLIMITED = ("/vod/",)


def parse_rate(text: str) -> list[RateLimitItem]:
    """`600/minute`, `10/second;600/minute`, `600 per minute`; 0, off or empty: no limit.
    ValueError for anything else."""
    if text.strip().lower() in OFF:
        return []
    return list(parse_many(text))


def describe(items: list[RateLimitItem]) -> str:
    return "; ".join(str(item) for item in items)


@dataclass(frozen=True)
class Refusal:
    """A request over a budget: which budget, and the whole seconds until it may try again."""

    budget: str
    retry_after: int

    def message(self, who: str) -> str:
        return (
            f"too many requests from {who}: the limit is {self.budget}; "
            f"retry in {self.retry_after} s"
        )


class RateLimits:
    """The three budgets (per address, per key, uploads) and their counters."""

    def __init__(
        self, per_ip: str, per_key: str, uploads: str, beacons: str = "off", signin: str = "off"
    ) -> None:
        self.per_ip = parse_rate(per_ip)
        self.per_key = parse_rate(per_key)
        self.uploads = parse_rate(uploads)
        self.beacons = parse_rate(beacons)
        self.signin = parse_rate(signin)
        self._limiter = SlidingWindowCounterRateLimiter(MemoryStorage())

    @classmethod
    def from_settings(cls, settings: Any) -> RateLimits:
        return cls(
            settings.rate_limit_per_ip,
            settings.rate_limit_per_key,
            settings.rate_limit_uploads,
            settings.rate_limit_beacons,
            settings.rate_limit_signin,
        )

    def hit(self, items: list[RateLimitItem], *identifiers: str) -> Refusal | None:
        """Count one request against every window of a budget; a Refusal (and nothing counted)
        when any window is full."""
        for item in items:
            if not self._limiter.test(item, *identifiers):
                stats = self._limiter.get_window_stats(item, *identifiers)
                wait = max(1, math.ceil(stats.reset_time - time.time()))
                return Refusal(describe(items), wait)
        for item in items:
            self._limiter.hit(item, *identifiers)
        return None

    def check_address(self, path: str, address: str) -> Refusal | None:
        if path.startswith(UPLOADS):
            return self.hit(self.uploads, "ip-uploads", address)
        return self.hit(self.per_ip, "ip", address)

    def check_beacon(self, address: str) -> Refusal | None:
        """Player beacons (api/beacons.py answers them before this module's middleware)."""
        return self.hit(self.beacons, "ip-beacons", address)

    def check_signin(self, address: str) -> Refusal | None:
        """Web console sign-in attempts (api/session.py): a pasted key is a guess until it
        checks out, so attempts are counted per address before the key is looked at."""
        return self.hit(self.signin, "ip-signin", address)

    def check_key(self, path: str, key_id: str) -> Refusal | None:
        if path.startswith(UPLOADS):
            return self.hit(self.uploads, "key-uploads", key_id)
        return self.hit(self.per_key, "key", key_id)


def too_many(refusal: Refusal, who: str) -> tuple[dict[str, str], dict[str, str]]:
    """The 429's JSON body and headers."""
    return {"detail": refusal.message(who)}, {"Retry-After": str(refusal.retry_after)}


class AddressRateLimit:
    """ASGI middleware: every HTTP request but health probes and delivery counts against its
    client address's budget."""

    def __init__(self, app: Any, limits: RateLimits) -> None:
        self.app = app
        self.limits = limits

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        path = scope.get("path", "")
        if scope["type"] != "http" or path in EXEMPT or path.startswith(UNLIMITED):
            await self.app(scope, receive, send)
            return
        client = scope.get("client")
        address = client[0] if client else "unknown"
        refusal = self.limits.check_address(path, address)
        if refusal is None:
            await self.app(scope, receive, send)
            return
        body, headers = too_many(refusal, f"address {address}")
        await send_json(send, 429, body, headers)


async def send_json(send: Any, status: int, body: dict[str, Any], headers: dict[str, str]) -> None:
    """A whole JSON response from middleware (the app never saw the request)."""
    payload = json.dumps(body).encode()
    raw = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(payload)).encode()),
        *((name.lower().encode(), value.encode()) for name, value in headers.items()),
    ]
    await send({"type": "http.response.start", "status": status, "headers": raw})
    await send({"type": "http.response.body", "body": payload})


def limit_key(request: Any, key_id: str) -> None:
    """429 when an authenticated key is over its budget (api/auth.py `caller`); nothing when
    the application has no limits (created without them)."""
    from fastapi import HTTPException

    limits: RateLimits | None = getattr(request.app.state, "rate_limits", None)
    if limits is None:
        return
    refusal = limits.check_key(request.url.path, key_id)
    if refusal is not None:
        body, headers = too_many(refusal, f"key {key_id}")
        raise HTTPException(429, body["detail"], headers=headers)


def limit_signin(request: Any) -> None:
    """429 when the request's address is over its sign-in budget (api/session.py)."""
    from fastapi import HTTPException

    limits: RateLimits | None = getattr(request.app.state, "rate_limits", None)
    if limits is None:
        return
    address = request.client.host if request.client else "unknown"
    refusal = limits.check_signin(address)
    if refusal is not None:
        body, headers = too_many(refusal, f"address {address} (sign-in attempts)")
        raise HTTPException(429, body["detail"], headers=headers)
