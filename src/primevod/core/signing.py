"""CloudFront-format signed URLs and cookies: the same bytes CloudFront expects, so one signer
serves the edge of the embedded default and a real CloudFront distribution.

Canned policy: `Expires`, `Signature`, `Key-Pair-Id`; custom policy: `Policy`, `Signature`,
`Key-Pair-Id` (wildcard resource, `DateGreaterThan`, `IpAddress`); cookies carry the same as
`CloudFront-Policy` / `CloudFront-Signature` / `CloudFront-Key-Pair-Id`. Signatures are
RSA PKCS#1 v1.5 over the policy JSON with SHA-1, or SHA-256 with `Hash-Algorithm=SHA256`.
"""

from __future__ import annotations

import base64
import fnmatch
import ipaddress
import json
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa

SIGNING_PARAMS = ("Expires", "Policy", "Signature", "Key-Pair-Id", "Hash-Algorithm")
COOKIE_POLICY = "CloudFront-Policy"
COOKIE_SIGNATURE = "CloudFront-Signature"
COOKIE_KEY_PAIR = "CloudFront-Key-Pair-Id"
COOKIE_HASH = "CloudFront-Hash-Algorithm"
_HASHES = {"SHA1": hashes.SHA1, "SHA256": hashes.SHA256}


def cf_b64encode(data: bytes) -> str:
    """CloudFront's URL-safe base64: `+` -> `-`, `=` -> `_`, `/` -> `~`."""
    return base64.b64encode(data).decode().replace("+", "-").replace("=", "_").replace("/", "~")


def cf_b64decode(text: str) -> bytes:
    raw = text.replace("-", "+").replace("_", "=").replace("~", "/")
    return base64.b64decode(raw, validate=True)


def build_policy(
    resource: str, expires: int, *, starts: int | None = None, ip: str | None = None
) -> str:
    """The policy JSON exactly as CloudFront (and botocore's CloudFrontSigner) writes it."""
    condition: OrderedDict[str, Any] = OrderedDict(DateLessThan={"AWS:EpochTime": int(expires)})
    if ip:
        condition["IpAddress"] = {"AWS:SourceIp": ip if "/" in ip else f"{ip}/32"}
    if starts is not None:
        condition["DateGreaterThan"] = {"AWS:EpochTime": int(starts)}
    statement = OrderedDict([("Resource", resource), ("Condition", condition)])
    return json.dumps({"Statement": [statement]}, separators=(",", ":"))


@dataclass
class Signer:
    key_pair_id: str
    private_key: rsa.RSAPrivateKey
    hash_algorithm: str = "SHA1"  # or "SHA256"

    def sign(self, policy: str) -> str:
        algorithm = _HASHES[self.hash_algorithm]()
        signature = self.private_key.sign(policy.encode(), padding.PKCS1v15(), algorithm)
        return cf_b64encode(signature)

    def signed_url(
        self,
        url: str,
        expires: int,
        *,
        resource: str | None = None,
        starts: int | None = None,
        ip: str | None = None,
    ) -> str:
        """Canned policy when the URL itself is the resource and there is no start time or
        address; a custom policy otherwise."""
        params: list[tuple[str, str]]
        if resource is None and starts is None and ip is None:
            policy = build_policy(url, expires)
            params = [("Expires", str(int(expires)))]
        else:
            policy = build_policy(resource or url, expires, starts=starts, ip=ip)
            params = [("Policy", cf_b64encode(policy.encode()))]
        params += [("Signature", self.sign(policy)), ("Key-Pair-Id", self.key_pair_id)]
        if self.hash_algorithm != "SHA1":
            params.append(("Hash-Algorithm", self.hash_algorithm))
        separator = "&" if "?" in url else "?"
        return url + separator + urlencode(params, safe="~")

    def signed_cookies(
        self, resource: str, expires: int, *, starts: int | None = None, ip: str | None = None
    ) -> dict[str, str]:
        policy = build_policy(resource, expires, starts=starts, ip=ip)
        cookies = {
            COOKIE_POLICY: cf_b64encode(policy.encode()),
            COOKIE_SIGNATURE: self.sign(policy),
            COOKIE_KEY_PAIR: self.key_pair_id,
        }
        if self.hash_algorithm != "SHA1":
            cookies[COOKIE_HASH] = self.hash_algorithm
        return cookies


class Rejected(Exception):
    """A request the edge refuses; `reason` is one of REASONS."""

    def __init__(self, reason: str, detail: str = "") -> None:
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason = reason
        self.detail = detail


REASONS = (
    "missing",
    "malformed",
    "unknown-key",
    "tampered",
    "expired",
    "not-yet-valid",
    "wrong-resource",
    "wrong-ip",
)


def split_signed_url(url: str) -> tuple[str, dict[str, str]]:
    """(the URL without the signing parameters, byte for byte as it was signed, and the
    signing parameters)."""
    parts = urlsplit(url)
    kept, signing = [], {}
    for piece in parts.query.split("&") if parts.query else []:
        name = piece.split("=", 1)[0]
        if name in SIGNING_PARAMS:
            signing.update(parse_qsl(piece, keep_blank_values=True))
        else:
            kept.append(piece)
    bare = urlunsplit((parts.scheme, parts.netloc, parts.path, "&".join(kept), ""))
    return bare, signing


def _resource_matches(pattern: str, url: str) -> bool:
    # CloudFront wildcards: * any run of characters (including /), ? one character
    return fnmatch.fnmatchcase(url, pattern)


class Verifier:
    """Checks signed URLs and cookies against public keys by key-pair id. The RSA check of a
    (policy, signature, key) triple is cached: a player's repeated requests with the same
    cookies cost a dictionary lookup, not a signature verification."""

    def __init__(self, public_keys: dict[str, rsa.RSAPublicKey], cache_size: int = 10_000):
        self.public_keys = public_keys
        self._verified: OrderedDict[tuple[str, str, str, str], dict[str, Any]] = OrderedDict()
        self._cache_size = cache_size

    def _policy(self, policy: str, signature: str, key_id: str, algorithm: str) -> dict[str, Any]:
        cache_key = (policy, signature, key_id, algorithm)
        hit = self._verified.get(cache_key)
        if hit is not None:
            self._verified.move_to_end(cache_key)
            return hit
        key = self.public_keys.get(key_id)
        if key is None:
            raise Rejected("unknown-key", f"no active key {key_id!r}")
        if algorithm not in _HASHES:
            raise Rejected("malformed", f"hash algorithm {algorithm!r}")
        try:
            raw = cf_b64decode(signature)
        except ValueError:
            raise Rejected("tampered", "signature is not CloudFront base64") from None
        try:
            key.verify(raw, policy.encode(), padding.PKCS1v15(), _HASHES[algorithm]())
        except InvalidSignature:
            raise Rejected("tampered", "signature does not match the policy") from None
        try:
            statement = json.loads(policy)["Statement"][0]
            parsed = {"resource": statement["Resource"], "condition": statement["Condition"]}
        except (ValueError, KeyError, IndexError, TypeError):
            raise Rejected("malformed", "policy is not a CloudFront policy") from None
        self._verified[cache_key] = parsed
        if len(self._verified) > self._cache_size:
            self._verified.popitem(last=False)
        return parsed

    def check(
        self,
        url: str,
        *,
        params: dict[str, str] | None = None,
        cookies: dict[str, str] | None = None,
        client_ip: str | None = None,
        now: float,
    ) -> None:
        """Raise Rejected unless the URL's own signature (or else the cookies) allow it."""
        bare, signing = split_signed_url(url)
        signing = {**signing, **(params or {})}
        cookies = cookies or {}
        if "Signature" in signing:
            key_id = signing.get("Key-Pair-Id", "")
            algorithm = signing.get("Hash-Algorithm", "SHA1")
            if "Policy" in signing:
                try:
                    policy = cf_b64decode(signing["Policy"]).decode()
                except (ValueError, UnicodeDecodeError):
                    raise Rejected("malformed", "Policy is not CloudFront base64") from None
            elif "Expires" in signing:
                if not signing["Expires"].isdigit():
                    raise Rejected("malformed", "Expires is not a number")
                policy = build_policy(bare, int(signing["Expires"]))
            else:
                raise Rejected("malformed", "Signature without Policy or Expires")
            signature = signing["Signature"]
        elif COOKIE_SIGNATURE in cookies:
            key_id = cookies.get(COOKIE_KEY_PAIR, "")
            algorithm = cookies.get(COOKIE_HASH, "SHA1")
            try:
                policy = cf_b64decode(cookies.get(COOKIE_POLICY, "")).decode()
            except (ValueError, UnicodeDecodeError):
                raise Rejected("malformed", "CloudFront-Policy is not CloudFront base64") from None
            signature = cookies[COOKIE_SIGNATURE]
        else:
            raise Rejected("missing", "no signed URL parameters or signed cookies")
        parsed = self._policy(policy, signature, key_id, algorithm)
        condition = parsed["condition"]
        try:
            expires = int(condition["DateLessThan"]["AWS:EpochTime"])
        except (KeyError, TypeError, ValueError):
            raise Rejected("malformed", "policy has no DateLessThan") from None
        if now >= expires:
            raise Rejected("expired", f"expired at {expires}")
        starts = condition.get("DateGreaterThan", {}).get("AWS:EpochTime")
        if starts is not None and now <= int(starts):
            raise Rejected("not-yet-valid", f"valid from {starts}")
        if not _resource_matches(parsed["resource"], bare):
            raise Rejected("wrong-resource", f"signed for {parsed['resource']}")
        cidr = condition.get("IpAddress", {}).get("AWS:SourceIp")
        if cidr is not None:
            try:
                allowed = client_ip is not None and ipaddress.ip_address(client_ip) in (
                    ipaddress.ip_network(cidr, strict=False)
                )
            except ValueError:
                allowed = False
            if not allowed:
                raise Rejected("wrong-ip", f"signed for {cidr}")
