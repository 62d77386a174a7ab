"""Rows of the catalog's histories for the analytics export (core/analytics.py TABLES): the
event log and the workflow executions, from a time on, read a batch at a time."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Any

from sqlalchemy import select

from primevod.adapters.catalog.sql_database import SqlDatabase, _aware
from primevod.adapters.catalog.tables import AssetRow, EventRow, ExecutionRow


def _iso(value: datetime | None) -> str | None:
    aware = _aware(value)
    return aware.isoformat() if aware else None


class SqlExports(SqlDatabase):
    def export_events(self, since: datetime, batch: int = 10_000) -> Iterator[dict[str, Any]]:
        """Events created at or after `since`, oldest first."""
        last_id = 0
        while True:
            query = (
                select(EventRow)
                .where(EventRow.id > last_id, EventRow.created_at >= since)
                .order_by(EventRow.id)
                .limit(batch)
            )
            with self.session() as s:
                rows = [
                    {
                        "id": r.id,
                        "type": r.type,
                        "asset_id": r.asset_id,
                        "created_at": _iso(r.created_at),
                        "data": r.data,
                    }
                    for r in s.execute(query).scalars()
                ]
            yield from rows
            if len(rows) < batch:
                return
            last_id = rows[-1]["id"]

    def export_executions(self, since: datetime) -> Iterator[dict[str, Any]]:
        """Executions started at or after `since`, with their asset's media length."""
        query = (
            select(ExecutionRow, AssetRow.doc)
            .join(AssetRow, AssetRow.id == ExecutionRow.asset_id, isouter=True)
            .where(ExecutionRow.started_at >= since)
            .order_by(ExecutionRow.started_at)
        )
        with self.session() as s:
            for execution, doc in s.execute(query):
                yield {
                    "id": execution.id,
                    "asset_id": execution.asset_id,
                    "status": execution.status,
                    "error_code": (execution.error or {}).get("code"),
                    "started_at": _iso(execution.started_at),
                    "finished_at": _iso(execution.finished_at),
                    "media_seconds": (doc or {}).get("duration"),
                }
