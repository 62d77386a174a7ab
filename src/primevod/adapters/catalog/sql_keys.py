"""API keys: shown once, stored as a SHA-256 of the secret, checked in constant time."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from typing import Any

from sqlalchemy import select

from primevod.adapters.catalog.sql_database import SqlDatabase, _aware
from primevod.adapters.catalog.tables import ApiKeyRow
from primevod.core.assets import utcnow
from primevod.core.errors import NotFound

ROLES = ("admin", "uploader", "viewer")


class SqlKeys(SqlDatabase):
    def create_key(self, role: str, name: str | None = None) -> str:
        if role not in ROLES:
            raise ValueError(f"role must be one of {', '.join(ROLES)}")
        key_id = secrets.token_hex(6)
        secret = secrets.token_urlsafe(24)
        with self.session() as s:
            s.add(
                ApiKeyRow(
                    id=key_id,
                    hash=_hash_secret(secret),
                    role=role,
                    name=name,
                    created_at=utcnow(),
                    revoked=False,
                )
            )
        return f"pv_{key_id}_{secret}"

    def check_key(self, key: str) -> str | None:
        """The role of a valid key, else None."""
        parts = key.split("_", 2)
        if len(parts) != 3 or parts[0] != "pv":
            return None
        with self.session() as s:
            row = s.get(ApiKeyRow, parts[1])
            if row is None or row.revoked:
                return None
            if not hmac.compare_digest(row.hash, _hash_secret(parts[2])):
                return None
            return row.role

    def list_keys(self) -> list[dict[str, Any]]:
        with self.session() as s:
            rows = s.execute(select(ApiKeyRow).order_by(ApiKeyRow.created_at)).scalars().all()
            return [
                {
                    "id": r.id,
                    "role": r.role,
                    "name": r.name,
                    "revoked": r.revoked,
                    "created_at": _aware(r.created_at).isoformat(),
                }
                for r in rows
            ]

    def revoke_key(self, key_id: str) -> None:
        with self.session() as s:
            row = s.get(ApiKeyRow, key_id)
            if row is None:
                raise NotFound(f"no key {key_id}")
            row.revoked = True


def _hash_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()
