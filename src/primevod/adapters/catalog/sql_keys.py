"""API keys: shown once, stored as a SHA-256 of the secret, checked in constant time."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from primevod.adapters.catalog.sql_database import SqlDatabase, _aware
from primevod.adapters.catalog.tables import ApiKeyRow
from primevod.core.access import Principal, principal_of
from primevod.core.api_keys import CUSTOM, ROLES, new_key, split_key, verify
from primevod.core.assets import utcnow
from primevod.core.errors import NotFound

__all__ = ["ROLES", "SqlKeys"]


class SqlKeys(SqlDatabase):
    def create_key(
        self, role: str, name: str | None = None, policy: dict[str, Any] | None = None
    ) -> str:
        """A new key with `role`, or with a policy of its own (the role is then a label)."""
        if role == CUSTOM and not policy:
            raise ValueError("a custom key needs a policy")
        made = new_key(role)
        with self.session() as s:
            s.add(
                ApiKeyRow(
                    id=made.key_id,
                    hash=made.secret_hash,
                    role=role,
                    name=name,
                    created_at=utcnow(),
                    revoked=False,
                    policy=policy,
                )
            )
        return made.key

    def authenticate(self, key: str) -> Principal | None:
        """The key's id and policy (its own, else its role's) if the key is valid."""
        parts = split_key(key)
        if parts is None:
            return None
        with self.session() as s:
            row = s.get(ApiKeyRow, parts[0])
            if row is None or row.revoked or not verify(row.hash, parts[1]):
                return None
            return principal_of(row.id, row.role, row.policy)

    def key_principal(self, key_id: str) -> Principal:
        """A stored key's principal by id (for the policy simulator)."""
        with self.session() as s:
            row = s.get(ApiKeyRow, key_id)
            if row is None:
                raise NotFound(f"no key {key_id}")
            return principal_of(row.id, row.role, row.policy)

    def check_key(self, key: str) -> str | None:
        """The role of a valid key, else None."""
        principal = self.authenticate(key)
        return principal.role if principal else None

    def list_keys(self) -> list[dict[str, Any]]:
        with self.session() as s:
            rows = s.execute(select(ApiKeyRow).order_by(ApiKeyRow.created_at)).scalars().all()
            return [
                {
                    "id": r.id,
                    "role": r.role,
                    "name": r.name,
                    "revoked": r.revoked,
                    "policy": "own" if r.policy else "role",
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
