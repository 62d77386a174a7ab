"""Retention on a real SQLite catalog and real files: events with their deliveries,
executions with their steps, canary runs, metric points and rotated log files older than
their period are pruned, recent ones (and anything of an asset still in its workflow, and
every asset's current execution) kept; the log files rotate by size and daily, also with
two writers; the dev profile has the shortest periods."""

from __future__ import annotations

import logging
import os
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import update

from primevod.adapters.catalog.tables import CanaryRunRow, ExecutionRow
from primevod.core.assets import Asset, AssetStatus, Event
from primevod.core.metric_aggregator import Flush
from primevod.core.metrics import minute_of
from primevod.observability.log_files import RotatingLogFile, rotated_files
from primevod.pipeline.lifecycle_schedule import run_lifecycle
from primevod.pipeline.retention import prune_history
from primevod.settings import DEV_RETENTION, Settings

NOW = datetime.now(UTC)
OLD = NOW - timedelta(days=120)


def build(home: Path, **settings: object):
    from primevod import wiring

    return wiring.build(Settings(home=home, **settings))


def backdate(rt, table, where, **values: object) -> None:
    with rt.catalog.session() as s:
        s.execute(update(table).where(where).values(**values))


def asset(rt, asset_id: str, status: AssetStatus) -> None:
    rt.catalog.create_asset(
        Asset(
            id=asset_id, status=status, source_bucket="source", source_key=f"uploads/{asset_id}/f"
        )
    )


def ended(rt, execution_id: str, asset_id: str, *, when: datetime = OLD) -> None:
    rt.catalog.start_execution(execution_id, asset_id)
    rt.catalog.step_finished(rt.catalog.step_started(execution_id, "ingest"), "succeeded")
    rt.catalog.finish_execution(execution_id, "succeeded")
    backdate(rt, ExecutionRow, ExecutionRow.id == execution_id, started_at=when, finished_at=when)


def test_old_rows_are_pruned_and_recent_ones_kept(tmp_path: Path) -> None:
    rt = build(tmp_path / "home")
    queue = rt.subscriptions.add_queue("everything")
    asset(rt, "done", AssetStatus.READY)
    asset(rt, "busy", AssetStatus.PROCESSING)
    for asset_id in (None, "done", "busy"):
        rt.catalog.emit(Event(type="object.expired", asset_id=asset_id, created_at=OLD))
    rt.catalog.emit(Event(type="object.expired", data={"recent": True}))

    ended(rt, "done.1", "done")  # an earlier attempt: pruned
    ended(rt, "done.2", "done")  # the asset's current execution: kept
    rt.catalog.update_asset("done", execution_id="done.2")
    ended(rt, "busy.1", "busy")  # an asset still in its workflow: kept
    rt.catalog.start_execution("gone.1", "gone")  # still running, however old: kept
    backdate(rt, ExecutionRow, ExecutionRow.id == "gone.1", started_at=OLD)
    ended(rt, "recent.1", "done", when=NOW - timedelta(days=1))

    rt.observability.record_canary("http://x/old.m3u8", None, {"passed": True})
    backdate(rt, CanaryRunRow, CanaryRunRow.url == "http://x/old.m3u8", created_at=OLD)
    rt.observability.record_canary("http://x/new.m3u8", None, {"passed": True})
    old_minute, new_minute = minute_of(OLD.timestamp()), minute_of(NOW.timestamp())
    rt.observability.write(
        Flush(
            counters={
                (old_minute, "primevod_canary_runs_total", 'result="passed"'): 1.0,
                (new_minute, "primevod_canary_runs_total", 'result="passed"'): 1.0,
            }
        )
    )
    deliveries_before = len(rt.subscriptions.deliveries(queue["id"]))

    pruned = prune_history(rt, NOW)
    assert pruned["events"] == 2 and pruned["deliveries"] == 2
    assert (pruned["executions"], pruned["steps"]) == (1, 1)
    assert pruned["canary_runs"] == 1 and pruned["metric_points"] == 1

    left = rt.catalog.list_events(limit=1000)
    assert [e.asset_id for e in left if e.created_at < NOW - timedelta(days=60)] == ["busy"]
    assert any(e.data.get("recent") for e in left)
    assert len(rt.subscriptions.deliveries(queue["id"])) == deliveries_before - 2
    assert [e.id for e in rt.catalog.list_executions("done")] == ["done.2", "recent.1"]
    assert [e.id for e in rt.catalog.list_executions("busy")] == ["busy.1"]
    assert [e.id for e in rt.catalog.list_executions("gone")] == ["gone.1"]
    assert [r["url"] for r in rt.observability.canary_runs(10)] == ["http://x/new.m3u8"]
    assert [p[2] for p in rt.observability.points(0, new_minute + 60)] == [new_minute]
    assert prune_history(rt, NOW) == dict.fromkeys(pruned, 0)  # nothing left to prune


def test_old_rotated_log_files_are_pruned_and_recent_ones_kept(tmp_path: Path) -> None:
    home = tmp_path / "home"
    rt = build(home)
    logs = home / "logs"
    logs.mkdir(parents=True)
    live = logs / "edge-access.log"
    files = {
        "live": live,
        "old": logs / "edge-access.log.20200101T000000Z",
        "recent": logs / "edge-access.log.20200102T000000Z",
        "old_log": logs / "primevod.log.20200101T000000Z.1",
        "not_ours": logs / "edge-access.log.bak",
    }
    for path in files.values():
        path.write_text("{}\n")
    month_ago = (NOW - timedelta(days=40)).timestamp()
    for name in ("live", "old", "old_log", "not_ours"):
        os.utime(files[name], (month_ago, month_ago))
    pruned = prune_history(rt, NOW)
    assert (pruned["access_log_files"], pruned["log_files"]) == (1, 1)
    assert {p.name for p in logs.iterdir()} == {
        "edge-access.log",
        "edge-access.log.20200102T000000Z",
        "edge-access.log.bak",
    }


def test_log_files_rotate_by_size_and_daily_with_two_writers(tmp_path: Path) -> None:
    path = tmp_path / "logs" / "edge-access.log"
    writers = [RotatingLogFile(path, max_bytes=1000), RotatingLogFile(path, max_bytes=1000)]
    logger = logging.getLogger("primevod.test.rotation")
    logger.propagate = False
    logger.setLevel(logging.INFO)
    lines = 0
    try:
        for i in range(60):  # 60 lines of 100 bytes, two writers taking turns: 6 KB
            record = logger.makeRecord(logger.name, logging.INFO, __file__, 0, "x" * 99, (), None)
            writers[i % 2].handle(record)
            lines += 1
        assert path.stat().st_size <= 1000
        rotated = rotated_files(path)
        assert len(rotated) >= 5 and all(p.stat().st_size <= 1000 for p in rotated)
        written = sum(len(p.read_text().splitlines()) for p in [*rotated, path])
        assert written == lines  # none lost, none written twice

        yesterday = (NOW - timedelta(days=1)).timestamp()
        os.utime(path, (yesterday, yesterday))
        before = set(rotated_files(path))
        writers[0].handle(logger.makeRecord(logger.name, logging.INFO, "", 0, "new day", (), None))
        [new] = set(rotated_files(path)) - before
        assert new.name.startswith(f"edge-access.log.{(NOW - timedelta(days=1)):%Y%m%d}")
        assert path.read_text() == "new day\n"
    finally:
        for w in writers:
            w.close()


def test_the_dev_profile_keeps_history_for_the_shortest_periods(tmp_path: Path) -> None:
    dev = Settings(home=tmp_path, profile="dev", canary_retention_days=3)
    assert dev.events_retention_days == dev.executions_retention_days == 1.0
    assert dev.metrics_retention_hours == 24.0 and dev.access_log_retention_days == 1.0
    assert dev.canary_retention_days == 3.0  # an explicit setting wins
    default = Settings(home=tmp_path)
    for name, short in DEV_RETENTION.items():
        assert getattr(default, name) > short


def test_the_lifecycle_run_prunes_history_with_its_rules(tmp_path: Path) -> None:
    rt = build(tmp_path / "home")
    rt.catalog.emit(Event(type="object.expired", created_at=OLD))
    report = run_lifecycle(rt, NOW)
    assert report["result"] == "applied" and report["document"] == "default.json"
    assert report["pruned"]["events"] == 1
