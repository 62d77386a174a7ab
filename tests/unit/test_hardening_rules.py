"""The pure rules of the server's hardening: constant-time comparison of secrets (and that a
client's non-ASCII signature is a mismatch, not a crash), rate notation, the web pages'
Content-Security-Policy."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from primevod.api.rate_limits import RateLimits, parse_rate
from primevod.api.security_headers import frame_options, page_policy
from primevod.core import api_keys, webhooks
from primevod.core.constant_time import equal
from primevod.core.uploads import check_part_signature, part_signature
from primevod.settings import Settings

SRC = Path(__file__).resolve().parents[2] / "src" / "primevod"
# the modules that check a secret a client sent: signatures, MACs, API keys
SECRET_CHECKS = [
    "core/api_keys.py",
    "core/uploads.py",
    "core/webhooks.py",
    "core/signing.py",
    "pipeline/uploads.py",
    "api/auth.py",
    "api/uploads.py",
    "api/edge.py",
]
SECRET_NAME = re.compile(r"secret|signature|^sig$|token|digest|mac$", re.IGNORECASE)


def test_equal_compares_text_and_bytes() -> None:
    assert equal("abc", "abc") and equal(b"abc", "abc")
    assert not equal("abc", "abd") and not equal("abc", "ab")
    assert not equal("abc", "é\U0001f600")  # compare_digest alone raises TypeError here


def test_non_ascii_signatures_are_mismatches() -> None:
    secret = b"k" * 32
    good = part_signature(secret, "u1", "k1", 1, 2_000_000_000)
    assert check_part_signature(secret, "u1", "k1", 1, 2_000_000_000, good, 0) is None
    reason = check_part_signature(secret, "u1", "k1", 1, 2_000_000_000, "é" * 64, 0)
    assert reason == "the part URL signature does not match"
    header = webhooks.sign("s3cret", b"{}", timestamp=100)
    assert webhooks.verify("s3cret", header, b"{}", now=100)
    assert not webhooks.verify("s3cret", "t=100,v1=é", b"{}", now=100)
    made = api_keys.new_key("viewer")
    assert api_keys.verify(made.secret_hash, made.key.split("_", 2)[2])
    assert not api_keys.verify(made.secret_hash, "é")


def _names(node: ast.AST) -> list[str]:
    found = []
    for sub in ast.walk(node):
        if isinstance(sub, ast.Name):
            found.append(sub.id)
        elif isinstance(sub, ast.Attribute):
            found.append(sub.attr)
    return found


@pytest.mark.parametrize("module", SECRET_CHECKS)
def test_secrets_are_never_compared_with_equals(module: str) -> None:
    """`==` returns at the first differing byte, which times out a signature byte by byte:
    these modules compare secrets with core.constant_time.equal."""
    tree = ast.parse((SRC / module).read_text())
    offending = [
        f"{module}:{node.lineno}: {ast.unparse(node)}"
        for node in ast.walk(tree)
        if isinstance(node, ast.Compare)
        and any(isinstance(op, ast.Eq | ast.NotEq) for op in node.ops)
        and any(SECRET_NAME.search(n) for n in _names(node))
    ]
    assert offending == []


@pytest.mark.parametrize("text", ["off", "0", "", " OFF "])
def test_rate_off(text: str) -> None:
    assert parse_rate(text) == []


def test_rate_notation() -> None:
    assert [str(i) for i in parse_rate("10/second;600/minute")] == [
        "10 per 1 second",
        "600 per 1 minute",
    ]
    with pytest.raises(ValueError):
        parse_rate("lots")
    with pytest.raises(ValueError):
        Settings(rate_limit_per_ip="lots")


def test_a_full_window_refuses_and_counts_nothing_more() -> None:
    limits = RateLimits("2/minute", "off", "off")
    assert limits.check_address("/api/v1/assets", "198.51.100.1") is None
    assert limits.check_address("/api/v1/assets", "198.51.100.1") is None
    refusal = limits.check_address("/api/v1/assets", "198.51.100.1")
    assert refusal is not None and 1 <= refusal.retry_after <= 60
    assert "2 per 1 minute" in refusal.message("address 198.51.100.1")
    assert limits.check_address("/api/v1/assets", "198.51.100.2") is None  # its own budget
    assert limits.check_address("/api/v1/uploads/config", "198.51.100.1") is None  # off
    assert limits.check_key("/api/v1/assets", "k1") is None  # off


def test_page_policy(tmp_path: Path) -> None:
    plain = page_policy(Settings(home=tmp_path))
    assert "script-src 'self';" in plain and "'unsafe-inline'" not in plain
    assert "frame-ancestors 'self'" in plain and "object-src 'none'" in plain
    cdn = page_policy(
        Settings(
            home=tmp_path,
            playback_base_url="https://d111.cloudfront.net/prefix",
            store="s3",
            s3_endpoint_url="http://127.0.0.1:9000",
            frame_ancestors="'self' https://partner.example",
        )
    )
    assert "media-src 'self' blob: https://d111.cloudfront.net;" in cdn
    assert "connect-src 'self' https://d111.cloudfront.net http://127.0.0.1:9000;" in cdn
    assert cdn.endswith("frame-ancestors 'self' https://partner.example")
    aws = page_policy(Settings(home=tmp_path, store="s3"))
    assert "connect-src 'self' https://*.amazonaws.com;" in aws
    own = page_policy(Settings(home=tmp_path, content_security_policy="default-src 'none'"))
    assert own == "default-src 'none'"


def test_frame_options() -> None:
    assert frame_options("'self'") == "SAMEORIGIN"
    assert frame_options("'none'") == "DENY"
    assert frame_options("'self' https://partner.example") is None
