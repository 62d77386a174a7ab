"""API keys, the same on every shape: `pv_<id>_<secret>`, shown once, stored as the SHA-256
of the secret under its id, checked in constant time; each key has one role, and each
route admits a set of roles.

Pure: the catalog (SQL) and the AWS shape's table (DynamoDB) store what `new_key` returns
and check with `verify`."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass

from primevod.core.constant_time import equal

ROLES = ("admin", "uploader", "viewer")
VIEW = ("admin", "uploader", "viewer")
UPLOAD = ("admin", "uploader")
ADMIN = ("admin",)
PREFIX = "pv"
CUSTOM = "custom"  # the label of a key whose own policy decides (core/access.py)


@dataclass(frozen=True)
class NewKey:
    key_id: str
    secret_hash: str
    key: str  # what the caller sends (`Authorization: Bearer <key>`), shown once


def new_key(role: str) -> NewKey:
    if role not in (*ROLES, CUSTOM):
        raise ValueError(f"role must be one of {', '.join(ROLES)}")
    key_id, secret = secrets.token_hex(6), secrets.token_urlsafe(24)
    return NewKey(key_id, hash_secret(secret), f"{PREFIX}_{key_id}_{secret}")


def split_key(key: str) -> tuple[str, str] | None:
    """(id, secret) of a well-formed key, else None."""
    parts = key.split("_", 2)
    if len(parts) != 3 or parts[0] != PREFIX or not parts[1] or not parts[2]:
        return None
    return parts[1], parts[2]


def hash_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def verify(stored_hash: str, secret: str) -> bool:
    return equal(stored_hash, hash_secret(secret))
