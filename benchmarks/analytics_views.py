"""The shipped views over a million beacon events: the export from the catalog to Parquet,
then each view queried whole, timed (median of `--repeat` runs, each on a fresh DuckDB
connection as `primevod analytics query` makes one).

    python benchmarks/analytics_views.py [--rows 1000000] [--assets 500] [--days 30]

Rows: sessions of 5 to 40 events (startup, switches, rebuffers, heartbeats, an error now
and then, end) spread over `--assets` assets and `--days` days, stored through the catalog's
own append. Results: benchmarks/results/analytics_views.json.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import tempfile
import time
from pathlib import Path

from primevod.adapters.catalog.sql_catalog import SqlCatalog
from primevod.pipeline import analytics

RESULTS = Path(__file__).parent / "results"
QUERIES = {
    "asset_daily": "SELECT * FROM asset_daily",
    "sessions": "SELECT count(*), avg(watch_seconds) FROM sessions",
    "player_errors": "SELECT * FROM player_errors",
    "top_assets_week": "SELECT asset_id, sum(watch_seconds) AS w FROM asset_daily "
    "WHERE day >= (SELECT max(day) - 7 FROM asset_daily) GROUP BY asset_id ORDER BY w DESC "
    "LIMIT 10",
}


def session_rows(rng: random.Random, asset: str, session: str, at: float) -> list[tuple]:
    rows: list[tuple] = [(at, asset, session, "hls.js", "startup", 0.0, rng.uniform(200, 3000),
                          None, None, None, None, None)]  # fmt: skip
    watched = 0.0
    for i in range(rng.randint(3, 38)):
        kind = rng.choices(["heartbeat", "switch", "rebuffer", "error"], [70, 15, 12, 3])[0]
        t = (i + 1) * 10_000.0
        if kind == "heartbeat":
            watched += 10
            rows.append((at + i * 10, asset, session, "hls.js", kind, t, watched, None, None,
                         rng.randint(0, 5), None, None))  # fmt: skip
        elif kind == "switch":
            rows.append((at + i * 10, asset, session, "hls.js", kind, t, None,
                         rng.choice([400_000, 1_200_000, 3_000_000]), rng.choice([360, 720, 1080]),
                         None, None, None))  # fmt: skip
        elif kind == "rebuffer":
            rows.append((at + i * 10, asset, session, "hls.js", kind, t, rng.uniform(100, 4000),
                         None, None, None, None, None))  # fmt: skip
        else:
            rows.append((at + i * 10, asset, session, "hls.js", kind, t, None, None, None, None,
                         rng.random() < 0.2, "fragLoadError"))  # fmt: skip
    rows.append((at + 400, asset, session, "hls.js", "end", 400_000.0, watched, None, None, 3,
                 None, None))  # fmt: skip
    return rows


def fill(catalog: SqlCatalog, rows: int, assets: int, days: int) -> int:
    rng = random.Random(11)
    start = time.time() - days * 86400
    made = 0
    batch: list[tuple] = []
    n = 0
    while made < rows:
        at = start + rng.uniform(0, days * 86400 - 600)
        new = session_rows(rng, f"asset-{rng.randrange(assets):04d}", f"session-{n:08d}", at)
        n += 1
        batch += new
        made += len(new)
        if len(batch) >= 50_000:
            catalog.append_beacon_events(batch)
            batch = []
    catalog.append_beacon_events(batch)
    return made


class _Rt:
    """What the export needs of a runtime: the catalog and the settings' home."""

    def __init__(self, home: Path, catalog: SqlCatalog) -> None:
        from primevod.settings import Settings

        self.catalog = catalog
        self.settings = Settings(home=home)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--assets", type=int, default=500)
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp)
        catalog = SqlCatalog(f"sqlite:///{home / 'catalog.db'}")
        started = time.monotonic()
        made = fill(catalog, args.rows, args.assets, args.days)
        fill_s = time.monotonic() - started
        started = time.monotonic()
        analytics.refresh(_Rt(home, catalog))  # type: ignore[arg-type]
        export_s = time.monotonic() - started
        lake = analytics.ParquetLake(home / analytics.LAKE)
        timings = {}
        for name, sql in QUERIES.items():
            runs = []
            for _ in range(args.repeat):
                t = time.perf_counter()
                lake.query(sql)
                runs.append((time.perf_counter() - t) * 1000)
            timings[name] = {"median_ms": round(statistics.median(runs), 1),
                             "max_ms": round(max(runs), 1)}  # fmt: skip
        parquet_mb = sum(f.stat().st_size for f in (home / "analytics").rglob("*.parquet")) / 1e6
    report = {
        "beacon_events": made,
        "assets": args.assets,
        "days": args.days,
        "fill_seconds": round(fill_s, 1),
        "export_seconds": round(export_s, 1),
        "parquet_mb": round(parquet_mb, 1),
        "queries": timings,
    }
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "analytics_views.json").write_text(json.dumps(report, indent=2) + "\n")
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
