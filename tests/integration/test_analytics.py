"""SQL over the logs: a known set of beacons, access-log lines and executions exported to the
Parquet lake by `primevod analytics refresh`, and the shipped views equal to the figures
computed by hand; a second export doubles nothing; a bad statement is a clear error."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from support.cli import run_cli

from primevod.adapters.catalog.sql_catalog import SqlCatalog
from primevod.core.assets import Asset

DAY1 = datetime(2026, 3, 2, tzinfo=UTC).timestamp()
DAY2 = DAY1 + 86400
S = "session-"


def beacon(at: float, asset: str, session: str, kind: str, **fields: object) -> tuple:
    row = {"value": None, "bitrate": None, "height": None, "dropped_frames": None}
    row.update(fields)
    return (
        at, asset, S + session, fields.pop("player", "hls.js"), kind, 0.0,
        row["value"], row["bitrate"], row["height"], row["dropped_frames"],
        fields.get("fatal"), fields.get("code"),
    )  # fmt: skip


BEACONS = [
    # asset a, day 1: two plays (startups 400 and 800 ms), 30 + 10 s watched, 1.5 s stalled
    beacon(DAY1 + 10, "a", "1", "startup", value=400.0),
    beacon(DAY1 + 20, "a", "1", "rebuffer", value=1500.0),
    beacon(DAY1 + 30, "a", "1", "heartbeat", value=20.0),
    beacon(DAY1 + 40, "a", "1", "end", value=30.0, dropped_frames=3),
    beacon(DAY1 + 50, "a", "2", "startup", value=800.0),
    beacon(DAY1 + 60, "a", "2", "error", code="fragLoadError", fatal=False),
    beacon(DAY1 + 70, "a", "2", "end", value=10.0),
    # asset a, day 2: a session that never started (a fatal error, no play)
    beacon(DAY2 + 5, "a", "3", "error", code="manifestLoadError", fatal=True),
    # asset b, day 1: one play in dash.js
    beacon(DAY1 + 80, "b", "4", "startup", value=1000.0, player="dash.js"),
    beacon(DAY1 + 90, "b", "4", "end", value=5.0, player="dash.js"),
]
ACCESS = [
    {"ts": DAY1 + 11, "asset": "a", "path": "media_0.m3u8", "status": 200, "bytes": 1000},
    {"ts": DAY1 + 12, "asset": "a", "path": "chunk-0-00001.m4s", "status": 200, "bytes": 250000},
    {"ts": DAY1 + 13, "asset": "a", "path": "chunk-0-00002.m4s", "status": 206, "bytes": 50000},
    {"ts": DAY2 + 6, "asset": "a", "path": "master.m3u8", "status": 403, "bytes": 0},
    {"ts": DAY1 + 81, "asset": "b", "path": "manifest.mpd", "status": 200, "bytes": 7000},
]


@pytest.fixture
def home(tmp_path: Path) -> Path:
    catalog = SqlCatalog(f"sqlite:///{tmp_path / 'catalog.db'}")
    catalog.append_beacon_events(BEACONS)
    logs = tmp_path / "logs"
    logs.mkdir()
    lines = [json.dumps({"method": "GET", "ip": "10.0.0.9", **row}) for row in ACCESS]
    # a rotated file and the current one, with a line that is not JSON in between
    (logs / "edge-access.log.20260302T120000Z").write_text("\n".join(lines[:2]) + "\n")
    (logs / "edge-access.log").write_text("garbage\n" + "\n".join(lines[2:]) + "\n")
    started = datetime.fromtimestamp(DAY1 + 100, UTC)
    finished = datetime.fromtimestamp(DAY1 + 190, UTC)
    catalog.create_asset(
        Asset(id="a", source_bucket="s", source_key="a/in.mp4", duration=120.0), event_type=None
    )
    catalog.start_execution("exec-1", "a")
    with catalog.engine.begin() as conn:  # known times
        from sqlalchemy import text

        conn.execute(
            text("UPDATE executions SET started_at = :s, finished_at = :f, status = 'succeeded'"),
            {"s": started, "f": finished},
        )
    return tmp_path


def query(home: Path, sql: str) -> list[dict[str, object]]:
    done = run_cli(home, "analytics", "query", sql, "--json")
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)["rows"]


def test_views_equal_the_hand_computed_figures(home: Path) -> None:
    done = run_cli(home, "analytics", "refresh", "--json")
    assert done.returncode == 0, done.stderr
    written = json.loads(done.stdout)["written"]
    assert written["beacons"] == {"2026-03-02": 9, "2026-03-03": 1}
    assert written["access_log"] == {"2026-03-02": 4, "2026-03-03": 1}
    rows = query(home, "SELECT * FROM asset_daily ORDER BY asset_id, day")
    assert rows == [
        {
            "asset_id": "a", "day": "2026-03-02", "plays": 2, "watch_seconds": 40.0,
            "egress_bytes": 301000, "startup_p50_ms": 600.0, "startup_p95_ms": 780.0,
            "rebuffer_ratio": pytest.approx(1.5 / 41.5), "errors": 1,
        },
        {
            "asset_id": "a", "day": "2026-03-03", "plays": 0, "watch_seconds": 0.0,
            "egress_bytes": 0, "startup_p50_ms": None, "startup_p95_ms": None,
            "rebuffer_ratio": 0.0, "errors": 1,
        },
        {
            "asset_id": "b", "day": "2026-03-02", "plays": 1, "watch_seconds": 5.0,
            "egress_bytes": 7000, "startup_p50_ms": 1000.0, "startup_p95_ms": 1000.0,
            "rebuffer_ratio": 0.0, "errors": 0,
        },
    ]  # fmt: skip
    errors = query(home, "SELECT day, player, code, errors, fatal FROM player_errors ORDER BY day")
    assert errors == [
        {"day": "2026-03-02", "player": "hls.js", "code": "fragLoadError", "errors": 1, "fatal": 0},
        {"day": "2026-03-03", "player": "hls.js", "code": "manifestLoadError", "errors": 1,
         "fatal": 1},
    ]  # fmt: skip
    encodes = query(home, "SELECT * FROM encode_daily")
    assert encodes == [
        {"day": "2026-03-02", "executions": 1, "succeeded": 1, "failed": 0,
         "worker_minutes": 1.5, "media_minutes": 2.0},
    ]  # fmt: skip


def test_a_second_export_doubles_nothing(home: Path) -> None:
    for _ in range(2):
        assert run_cli(home, "analytics", "refresh").returncode == 0
    counts = query(home, "SELECT (SELECT count(*) FROM beacons) AS b, "
                   "(SELECT count(*) FROM access_log) AS l")  # fmt: skip
    assert counts == [{"b": 10, "l": 5}]
    audit = run_cli(home, "audit", "search", "--action", "analytics:Refresh", "--json")
    assert audit.returncode == 0, audit.stderr
    assert len(json.loads(audit.stdout)) == 2  # each export is in the audit trail


def test_before_any_export_the_views_are_empty(home: Path) -> None:
    assert query(home, "SELECT count(*) AS n FROM asset_daily") == [{"n": 0}]


def test_a_bad_statement_is_a_clear_error(home: Path) -> None:
    done = run_cli(home, "analytics", "query", "SELEC nothing")
    assert done.returncode == 2
    assert "query.invalid" in done.stderr and "Traceback" not in done.stderr
