"""Comparing secrets (signatures, MACs, key hashes) in constant time. Pure."""

from __future__ import annotations

import hmac


def equal(expected: str | bytes, given: str | bytes) -> bool:
    """`hmac.compare_digest` on bytes: its time does not depend on where the two differ, so a
    client cannot guess a signature byte by byte. Strings are compared as UTF-8, because
    compare_digest refuses a str with a non-ASCII character (TypeError) and a client can send
    one in any query string or header."""
    a = expected.encode() if isinstance(expected, str) else expected
    b = given.encode() if isinstance(given, str) else given
    return hmac.compare_digest(a, b)
