"""Assets in the catalog: one row per asset holding its whole document, keyset pages newest
or oldest first, and every change with its event in one transaction."""

from __future__ import annotations

from typing import Any, Unpack

from sqlalchemy import func, select

from primevod.adapters.catalog.keyset import encode_cursor, keyset_page
from primevod.adapters.catalog.sql_events import SqlEvents
from primevod.adapters.catalog.sql_search import SqlSearch
from primevod.adapters.catalog.tables import AssetRow
from primevod.core.assets import (
    Asset,
    AssetChanges,
    AssetStatus,
    Event,
    Page,
    SortOrder,
    check_changes,
    utcnow,
)
from primevod.core.errors import NotFound


class SqlAssets(SqlSearch, SqlEvents):
    @staticmethod
    def _fill(row: AssetRow, asset: Asset) -> None:
        row.status = asset.status.value
        row.title = asset.title
        row.checksum = asset.checksum
        row.execution_id = asset.execution_id
        row.error_code = asset.error.code if asset.error else None
        row.doc = asset.model_dump(mode="json")
        row.created_at = asset.created_at
        row.updated_at = asset.updated_at

    def create_asset(self, asset: Asset, *, event_type: str | None = "asset.created") -> Asset:
        with self.session() as s:
            row = AssetRow(id=asset.id)
            self._fill(row, asset)
            s.add(row)
            self._index_asset(s, asset)
            if event_type:
                self._emit(s, Event(type=event_type, asset_id=asset.id, data=_event_data(asset)))
        return asset

    def get_asset(self, asset_id: str) -> Asset:
        with self.session() as s:
            row = s.get(AssetRow, asset_id)
            if row is None:
                raise NotFound(f"no asset {asset_id}")
            return Asset.model_validate(row.doc)

    def update_asset(
        self,
        asset_id: str,
        *,
        event_type: str | None = None,
        event_data: dict[str, Any] | None = None,
        **changes: Unpack[AssetChanges],
    ) -> Asset:
        """Change fields of an asset and, in the same transaction, record the event."""
        check_changes(changes)
        with self.session() as s:
            row = s.get(AssetRow, asset_id, with_for_update=True)
            if row is None:
                raise NotFound(f"no asset {asset_id}")
            before = Asset.model_validate(row.doc)
            data = before.model_dump()
            data.update(changes)
            data["updated_at"] = utcnow()
            asset = Asset.model_validate(data)
            self._fill(row, asset)
            self._index_asset(s, asset, before)
            if event_type:
                self._emit(
                    s,
                    Event(
                        type=event_type,
                        asset_id=asset_id,
                        data={**_event_data(asset), **(event_data or {})},
                    ),
                )
            return asset

    def delete_asset(self, asset_id: str) -> Asset:
        with self.session() as s:
            row = s.get(AssetRow, asset_id)
            if row is None:
                raise NotFound(f"no asset {asset_id}")
            asset = Asset.model_validate(row.doc)
            s.delete(row)
            self._unindex_asset(s, asset_id)
            self._emit(s, Event(type="asset.deleted", asset_id=asset_id, data=_event_data(asset)))
            return asset

    def list_assets(
        self,
        *,
        status: str | None = None,
        limit: int = 50,
        cursor: str | None = None,
        order: SortOrder = "desc",
    ) -> Page:
        """A page of assets by creation time (newest first, or oldest with order="asc");
        ValueError: a bad cursor, or one of the other order."""
        limit = max(1, min(limit, 500))
        with self.session() as s:
            query = select(AssetRow.doc, AssetRow.created_at, AssetRow.id)
            if status:
                query = query.where(AssetRow.status == status)
            query = keyset_page(query, AssetRow.created_at, AssetRow.id, cursor, order)
            rows = s.execute(query.limit(limit + 1)).all()
        items = [Asset.model_validate(r.doc) for r in rows[:limit]]
        next_cursor = None
        if len(rows) > limit:
            last = rows[limit - 1]
            next_cursor = encode_cursor(last.created_at, last.id, order)
        return Page(items=items, next_cursor=next_cursor)

    def count_assets(self, status: str | None = None) -> int:
        with self.session() as s:
            query = select(func.count()).select_from(AssetRow)
            if status:
                query = query.where(AssetRow.status == status)
            return int(s.execute(query).scalar_one())


def _event_data(asset: Asset) -> dict[str, Any]:
    data: dict[str, Any] = {
        "asset_id": asset.id,
        "status": asset.status.value,
        "title": asset.title,
    }
    if asset.status is AssetStatus.READY:
        data.update(hls_path=asset.hls_path, dash_path=asset.dash_path)
    if asset.error:
        data["error"] = asset.error.model_dump()
    return data
