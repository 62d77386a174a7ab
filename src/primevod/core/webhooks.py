"""Webhook signing (HMAC-SHA256 over timestamp and body) and the retry schedule. Pure.

Header sent with every delivery:

    X-PrimeVOD-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>

A receiver recomputes the HMAC over the raw body with the subscription's secret, compares in
constant time, and rejects timestamps too far from its clock (replays)."""

from __future__ import annotations

import hashlib
import hmac
import time

from primevod.core.constant_time import equal

SIGNATURE_HEADER = "X-PrimeVOD-Signature"
EVENT_HEADER = "X-PrimeVOD-Event"
DELIVERY_HEADER = "X-PrimeVOD-Delivery"


def sign(secret: str, body: bytes, timestamp: int | None = None) -> str:
    ts = int(time.time()) if timestamp is None else timestamp
    mac = hmac.new(secret.encode(), f"{ts}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={ts},v1={mac}"


def verify(
    secret: str, header: str, body: bytes, *, tolerance: float = 300.0, now: float | None = None
) -> bool:
    try:
        fields = dict(part.split("=", 1) for part in header.split(","))
        ts = int(fields["t"])
        given = fields["v1"]
    except (ValueError, KeyError):
        return False
    current = time.time() if now is None else now
    if abs(current - ts) > tolerance:
        return False
    expected = hmac.new(secret.encode(), f"{ts}.".encode() + body, hashlib.sha256).hexdigest()
    return equal(expected, given)


def retry_delay(attempts: int, *, base: float = 5.0, cap: float = 900.0) -> float:
    """Seconds before the next try after `attempts` failed ones: 5, 10, 20, ... up to 15 min."""
    return min(cap, base * (2 ** max(0, attempts - 1)))
