"""The analytics export (`primevod analytics refresh`, and hourly by the schedule): what the
catalog and the logs hold since each table's last export, into the Parquet lake under
`PRIMEVOD_HOME/analytics/`, by day. The day of the last mark is exported again whole (a day
is always rewritten as one), so rows that arrived late in it are not lost; earlier days are
left as they are, and days a retention setting has pruned from the catalog stay in the lake.

Sources: the beacon events and the event log and executions of the catalog, and the edge's
access log files (the current one and the rotated ones, read by DuckDB itself)."""

from __future__ import annotations

import json
import logging
import tempfile
import time
from collections.abc import Callable, Iterable
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from primevod.adapters.analytics.duck_lake import ParquetLake
from primevod.pipeline.retention import ACCESS_LOG, log_path
from primevod.pipeline.runtime import Runtime

log = logging.getLogger("primevod.analytics")
LAKE = "analytics"


def lake(rt: Runtime) -> ParquetLake:
    return ParquetLake(Path(rt.settings.home) / LAKE)


def _day_start(mark: float) -> tuple[date, datetime]:
    day = datetime.fromtimestamp(mark, UTC).date()
    return day, datetime(day.year, day.month, day.day, tzinfo=UTC)


def _jsonl(rows: Iterable[dict[str, Any]], folder: Path, name: str) -> Path:
    path = folder / f"{name}.jsonl"
    with open(path, "w") as out:
        for row in rows:
            out.write(json.dumps(row, default=str))
            out.write("\n")
    return path


def refresh(rt: Runtime, now: float | None = None) -> dict[str, dict[str, int]]:
    """Export every table from the day of its last mark; rows written per table and day."""
    now = time.time() if now is None else now
    target = lake(rt)
    marks = target.state()
    written: dict[str, dict[str, int]] = {}
    with tempfile.TemporaryDirectory(prefix="analytics-", dir=rt.settings.home) as tmp:
        folder = Path(tmp)
        sources: dict[str, Callable[[datetime], list[Path]]] = {
            "beacons": lambda start: [
                _jsonl(rt.catalog.beacon_events(since=start.timestamp()), folder, "beacons")
            ],
            "events": lambda start: [_jsonl(rt.catalog.export_events(start), folder, "events")],
            "executions": lambda start: [
                _jsonl(rt.catalog.export_executions(start), folder, "executions")
            ],
            "access_log": lambda _start: _access_logs(rt),
        }
        for table, files in sources.items():
            day, start = _day_start(marks.get(table, 0.0))
            written[table] = target.write_days(table, files(start), since=day)
            marks[table] = now
    target.save_state(marks)
    total = sum(sum(days.values()) for days in written.values())
    log.info("analytics export: %d rows in %d table-days", total, sum(map(len, written.values())))
    return written


def _access_logs(rt: Runtime) -> list[Path]:
    current = log_path(rt.settings, ACCESS_LOG)
    return sorted(current.parent.glob(f"{ACCESS_LOG}*")) if current.parent.is_dir() else []
