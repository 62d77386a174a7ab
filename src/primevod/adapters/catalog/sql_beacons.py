"""The playback events players report: appended in batches (one INSERT of many rows per
flush, not one transaction per beacon), read back for the analytics export, pruned by age."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

from sqlalchemy import case, delete, func, insert, select

from primevod.adapters.catalog.sql_database import SqlDatabase
from primevod.adapters.catalog.tables import BeaconEventRow
from primevod.core.qoe import COLUMNS


class SqlBeacons(SqlDatabase):
    def append_beacon_events(self, rows: Sequence[tuple[object, ...]]) -> int:
        """Store event rows (core/qoe.py COLUMNS order) in one transaction."""
        if not rows:
            return 0
        with self.session() as s:
            s.execute(insert(BeaconEventRow), [dict(zip(COLUMNS, r, strict=True)) for r in rows])
        return len(rows)

    def beacon_events(
        self, *, since: float = 0.0, until: float | None = None, batch: int = 10_000
    ) -> Iterator[dict[str, Any]]:
        """Events received in [since, until), oldest first, read a batch at a time."""
        last_id = 0
        columns = [getattr(BeaconEventRow, c) for c in COLUMNS]
        while True:
            query = select(BeaconEventRow.id, *columns).where(
                BeaconEventRow.id > last_id, BeaconEventRow.received_at >= since
            )
            if until is not None:
                query = query.where(BeaconEventRow.received_at < until)
            with self.session() as s:
                found = s.execute(query.order_by(BeaconEventRow.id).limit(batch)).all()
            for row in found:
                yield dict(zip(COLUMNS, row[1:], strict=True))
            if len(found) < batch:
                return
            last_id = found[-1][0]

    def count_beacon_events(self) -> int:
        with self.session() as s:
            return int(s.execute(select(func.count()).select_from(BeaconEventRow)).scalar_one())

    def prune_beacon_events(self, before: float) -> int:
        with self.session() as s:
            done = s.execute(delete(BeaconEventRow).where(BeaconEventRow.received_at < before))
            return int(done.rowcount or 0)  # type: ignore[attr-defined]

    def viewer_sessions(self, since: float) -> list[dict[str, Any]]:
        """Per playback session received since `since` (epoch seconds): its asset, startup,
        watch time, stalled milliseconds and errors (core/qoe.py summarize)."""
        row = BeaconEventRow
        watched = case((row.type.in_(("heartbeat", "end")), row.value))
        startup = case((row.type == "startup", row.value))
        stalled = case((row.type == "rebuffer", row.value), else_=0.0)
        errors = case((row.type == "error", 1), else_=0)
        query = (
            select(
                row.asset_id,
                func.min(startup).label("startup_ms"),
                func.max(watched).label("watch_seconds"),
                func.sum(stalled).label("rebuffer_ms"),
                func.sum(errors).label("errors"),
            )
            .where(row.received_at >= since)
            .group_by(row.asset_id, row.session_id)
        )
        with self.session() as s:
            return [dict(r._mapping) for r in s.execute(query)]
