"""The observability store in the catalog database: 1-minute metric points and running
totals (flushed by every process), alarm states with their `alarm.state_changed` events,
canary runs, and recent failures. SQLite by default, PostgreSQL when the catalog is."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.engine import Connection

from primevod.adapters.catalog.sql_catalog import SqlCatalog
from primevod.adapters.catalog.tables import (
    AlarmStateRow,
    AssetRow,
    CanaryRunRow,
    ExecutionRow,
    MetricPointRow,
    MetricTotalRow,
)
from primevod.core.alarms import AlarmState, Evaluation
from primevod.core.assets import Event, utcnow
from primevod.core.metrics import Flush, Point


def _insert(conn: Connection, table: Any) -> Any:
    if conn.dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    return insert(table)


class SqlObservability:
    def __init__(self, catalog: SqlCatalog) -> None:
        self.catalog = catalog
        self.engine = catalog.engine

    # metrics ---------------------------------------------------------------------------------
    def write(self, flush: Flush) -> None:
        """Add counter deltas to their minute and to the totals; set gauge samples. One
        transaction: a failed write changes nothing (the caller keeps the deltas)."""
        if not flush:
            return
        points = MetricPointRow.__table__
        totals = MetricTotalRow.__table__
        with self.engine.begin() as conn:
            if flush.counters:
                rows = [
                    {"name": n, "labels": lab, "minute": m, "value": v}
                    for (m, n, lab), v in flush.counters.items()
                ]
                stmt = _insert(conn, points)
                conn.execute(
                    stmt.on_conflict_do_update(
                        index_elements=["name", "labels", "minute"],
                        set_={"value": points.c.value + stmt.excluded.value},
                    ),
                    rows,
                )
                summed: dict[tuple[str, str], float] = {}
                for (_, n, lab), v in flush.counters.items():
                    summed[(n, lab)] = summed.get((n, lab), 0.0) + v
                stmt = _insert(conn, totals)
                conn.execute(
                    stmt.on_conflict_do_update(
                        index_elements=["name", "labels"],
                        set_={"value": totals.c.value + stmt.excluded.value},
                    ),
                    [{"name": n, "labels": lab, "value": v} for (n, lab), v in summed.items()],
                )
            if flush.gauges:
                stmt = _insert(conn, points)
                conn.execute(
                    stmt.on_conflict_do_update(
                        index_elements=["name", "labels", "minute"],
                        set_={"value": stmt.excluded.value},
                    ),
                    [
                        {"name": n, "labels": lab, "minute": m, "value": v}
                        for (m, n, lab), v in flush.gauges.items()
                    ],
                )

    def points(self, start: int, end: int) -> list[Point]:
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(
                    MetricPointRow.name,
                    MetricPointRow.labels,
                    MetricPointRow.minute,
                    MetricPointRow.value,
                ).where(MetricPointRow.minute >= start, MetricPointRow.minute < end)
            ).all()
        return [(r[0], r[1], int(r[2]), float(r[3])) for r in rows]

    def totals(self) -> list[tuple[str, str, float]]:
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(MetricTotalRow.name, MetricTotalRow.labels, MetricTotalRow.value)
            ).all()
        return [(r[0], r[1], float(r[2])) for r in rows]

    def prune(self, before_minute: int) -> int:
        with self.engine.begin() as conn:
            result = conn.execute(
                delete(MetricPointRow).where(MetricPointRow.minute < before_minute)
            )
        return int(result.rowcount or 0)

    # alarms ----------------------------------------------------------------------------------
    def alarm_states(self) -> dict[str, dict[str, Any]]:
        with self.catalog.session() as s:
            rows = s.execute(select(AlarmStateRow)).scalars().all()
            return {r.name: _alarm_dict(r) for r in rows}

    def save_alarm(self, name: str, evaluation: Evaluation, description: str = "") -> bool:
        """Store the evaluation; on a change of state also emit `alarm.state_changed` in the
        same transaction (so rules and subscriptions see it). Returns whether it changed."""
        now = utcnow()
        with self.catalog.session() as s:
            row = s.get(AlarmStateRow, name)
            previous = row.state if row is not None else None
            if row is None:
                row = AlarmStateRow(name=name, changed_at=now)
                s.add(row)
            changed = previous != evaluation.state.value
            row.state = evaluation.state.value
            row.reason = evaluation.reason
            row.values = list(evaluation.values)
            row.updated_at = now
            if changed:
                row.changed_at = now
                # the first evaluation (no previous state) into OK or INSUFFICIENT_DATA is not news
                if previous is not None or evaluation.state is AlarmState.ALARM:
                    self.catalog._emit(
                        s,
                        Event(
                            type="alarm.state_changed",
                            data={
                                "alarm": name,
                                "description": description,
                                "previous": previous,
                                "state": evaluation.state.value,
                                "reason": evaluation.reason,
                            },
                        ),
                    )
            return changed

    # canary ----------------------------------------------------------------------------------
    def record_canary(self, url: str, asset_id: str | None, result: dict[str, Any]) -> None:
        with self.catalog.session() as s:
            s.add(
                CanaryRunRow(
                    url=url,
                    asset_id=asset_id,
                    passed=bool(result.get("passed")),
                    result=result,
                    created_at=utcnow(),
                )
            )

    def canary_rotation(self, limit: int) -> list[str]:
        """Ready assets for the next canary run: the newest (fresh output is checked at
        once), then the ones the canary checked least recently, never-checked first, so
        runs of `limit` assets go round every ready asset."""
        last = (
            select(CanaryRunRow.asset_id, func.max(CanaryRunRow.created_at).label("last"))
            .where(CanaryRunRow.asset_id.is_not(None))
            .group_by(CanaryRunRow.asset_id)
            .subquery()
        )
        ready = AssetRow.status == "ready"
        with self.catalog.session() as s:
            newest = s.execute(
                select(AssetRow.id).where(ready).order_by(AssetRow.created_at.desc()).limit(1)
            ).scalars()
            stalest = s.execute(
                select(AssetRow.id)
                .join(last, last.c.asset_id == AssetRow.id, isouter=True)
                .where(ready)
                .order_by(last.c.last.is_not(None), last.c.last, AssetRow.created_at.desc())
                .limit(limit)
            ).scalars()
            return list(dict.fromkeys([*newest, *stalest]))[:limit]

    def canary_runs(self, limit: int = 50) -> list[dict[str, Any]]:
        with self.catalog.session() as s:
            rows = (
                s.execute(select(CanaryRunRow).order_by(CanaryRunRow.id.desc()).limit(limit))
                .scalars()
                .all()
            )
            return [
                {
                    "at": _iso(r.created_at),
                    "url": r.url,
                    "asset_id": r.asset_id,
                    "passed": r.passed,
                    "failed": r.result.get("failed", []),
                    "duration_ms": r.result.get("duration_ms"),
                    "error": r.result.get("error"),
                }
                for r in rows
            ]

    def prune_canary(self, before: datetime) -> int:
        with self.engine.begin() as conn:
            result = conn.execute(delete(CanaryRunRow).where(CanaryRunRow.created_at < before))
        return int(result.rowcount or 0)

    # failures --------------------------------------------------------------------------------
    def recent_failures(
        self, limit: int = 20, since: datetime | None = None
    ) -> list[dict[str, Any]]:
        """The newest failed or cancelled executions (finished at or after `since`)."""
        ended = [ExecutionRow.status.in_(("failed", "cancelled"))]
        if since is not None:
            ended.append(ExecutionRow.finished_at >= since)
        with self.catalog.session() as s:
            rows = s.execute(
                select(ExecutionRow, AssetRow.title)
                .join(AssetRow, AssetRow.id == ExecutionRow.asset_id, isouter=True)
                .where(*ended)
                .order_by(ExecutionRow.finished_at.desc())
                .limit(limit)
            ).all()
            out = []
            for execution, title in rows:
                error = execution.error or {}
                out.append(
                    {
                        "asset_id": execution.asset_id,
                        "execution_id": execution.id,
                        "title": title,
                        "code": error.get("code"),
                        "step": error.get("step"),
                        "message": error.get("message"),
                        "at": _iso(execution.finished_at),
                    }
                )
            return out


def _iso(value: datetime | None) -> str | None:
    if value is None:
        return None
    if value.tzinfo is None:
        from datetime import UTC

        value = value.replace(tzinfo=UTC)
    return value.isoformat()


def _alarm_dict(row: AlarmStateRow) -> dict[str, Any]:
    return {
        "name": row.name,
        "state": row.state,
        "reason": row.reason,
        "values": row.values,
        "updated_at": _iso(row.updated_at),
        "changed_at": _iso(row.changed_at),
    }
