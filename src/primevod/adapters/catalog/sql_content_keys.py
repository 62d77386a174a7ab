"""Content keys of encrypted HLS assets, one per asset, in a table of their own: never in the
asset's document (which the API, events and webhooks show) and never in the destination
bucket. An asset keeps its key for life (retries and re-encodes reuse it, so a published
package and the one replacing it decrypt with the same key); it goes with the asset.

`seal_key`/`open_key` are the one place the key's stored form is made and read: plain hex
behind a version prefix, or, with encryption at rest on (`content_key_sealer` set by the
wiring), the envelope's sealed text form (`pvenc:`), which `primevod kms rotate` re-wraps."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from primevod.adapters.catalog.sql_database import SqlDatabase
from primevod.adapters.catalog.tables import ContentKeyRow
from primevod.core.assets import utcnow

PLAIN = "plain:"


def seal_key(key: bytes, sealer: Any = None) -> str:
    """The key's stored form: sealed when encryption at rest is on, else plain hex."""
    if sealer is not None:
        return str(sealer.seal_text(key.hex()))
    return PLAIN + key.hex()


def open_key(sealed: str, sealer: Any = None) -> bytes:
    if sealed.startswith(PLAIN):
        return bytes.fromhex(sealed[len(PLAIN) :])
    if sealer is None:
        raise ValueError("a sealed content key, and encryption at rest is off")
    return bytes.fromhex(sealer.open_text(sealed))


class SqlContentKeys(SqlDatabase):
    content_key_sealer: Any = None  # adapters/crypto Sealer, when encryption at rest is on

    def sealed_content_keys(self) -> list[str]:
        """The stored forms, for the key census of `primevod kms status`."""
        with self.session() as s:
            return [sealed for (sealed,) in s.execute(select(ContentKeyRow.sealed))]

    def reseal_content_keys(self) -> int:
        """Key rotation: each key's data key re-wrapped under the current master (plain ones
        sealed); returns how many rows changed."""
        sealer = self.content_key_sealer
        if sealer is None:
            return 0
        count = 0
        with self.session() as s:
            for row in s.execute(select(ContentKeyRow)).scalars():
                if row.sealed.startswith(PLAIN):
                    resealed = seal_key(open_key(row.sealed), sealer)
                else:
                    resealed = sealer.rewrap_text(row.sealed)
                if resealed != row.sealed:
                    row.sealed = resealed
                    count += 1
        return count

    def content_key(self, asset_id: str) -> bytes | None:
        """The asset's content key, None when it has none."""
        with self.session() as s:
            row = s.get(ContentKeyRow, asset_id)
            return open_key(row.sealed, self.content_key_sealer) if row is not None else None

    def ensure_content_key(self, asset_id: str, method: str, make: bytes) -> bytes:
        """The asset's key: the stored one, else `make` stored now. Two workers racing for
        the first key both end with the one that was stored first."""
        existing = self.content_key(asset_id)
        if existing is not None:
            return existing
        try:
            with self.session() as s:
                s.add(
                    ContentKeyRow(
                        asset_id=asset_id,
                        method=method,
                        sealed=seal_key(make, self.content_key_sealer),
                        created_at=utcnow(),
                    )
                )
        except IntegrityError:  # another worker stored one first
            stored = self.content_key(asset_id)
            if stored is None:
                raise
            return stored
        return make

    def delete_content_key(self, asset_id: str) -> bool:
        with self.session() as s:
            row = s.get(ContentKeyRow, asset_id)
            if row is None:
                return False
            s.delete(row)
            return True
