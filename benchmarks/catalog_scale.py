"""Catalog at 100,000 assets: p50/p95 of listing a page and of fetching one asset.

    python benchmarks/catalog_scale.py [--assets 100000] [--samples 500]

SQLite in a temporary folder (the embedded default). Results:
benchmarks/results/catalog_scale.json.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

from primevod.adapters.catalog.sql_catalog import SqlCatalog
from primevod.adapters.catalog.tables import AssetRow
from primevod.core.assets import Asset, AssetStatus

RESULTS = Path(__file__).parent / "results"
STATUSES = [AssetStatus.READY] * 8 + [AssetStatus.FAILED, AssetStatus.PROCESSING]


def fill(catalog: SqlCatalog, count: int) -> list[str]:
    base = datetime(2026, 1, 1, tzinfo=UTC)
    ids = []
    rows = []
    for i in range(count):
        asset = Asset(
            id=str(uuid.uuid4()),
            status=random.choice(STATUSES),
            title=f"title {i}",
            source_bucket="source",
            source_key=f"uploads/{i}/clip.mp4",
            checksum=f"{i:064x}",
            duration=30.0,
            renditions=[
                {"kind": "video", "width": 1280, "height": 720, "average_bitrate": 2_000_000}
            ]
            * 4,
            created_at=base + timedelta(seconds=i),
            updated_at=base + timedelta(seconds=i),
        )
        ids.append(asset.id)
        rows.append(
            {
                "id": asset.id,
                "status": asset.status.value,
                "title": asset.title,
                "checksum": asset.checksum,
                "execution_id": None,
                "error_code": None,
                "doc": asset.model_dump(mode="json"),
                "created_at": asset.created_at,
                "updated_at": asset.updated_at,
            }
        )
        if len(rows) == 5000:
            with catalog.session() as s:
                s.execute(AssetRow.__table__.insert(), rows)
            rows = []
    if rows:
        with catalog.session() as s:
            s.execute(AssetRow.__table__.insert(), rows)
    return ids


def percentiles(samples: list[float]) -> dict[str, float]:
    ms = sorted(x * 1000 for x in samples)
    return {
        "p50_ms": round(statistics.median(ms), 2),
        "p95_ms": round(ms[int(len(ms) * 0.95) - 1], 2),
        "max_ms": round(ms[-1], 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--assets", type=int, default=100_000)
    parser.add_argument("--samples", type=int, default=500)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        catalog = SqlCatalog(f"sqlite:///{Path(tmp) / 'catalog.db'}")
        started = time.monotonic()
        ids = fill(catalog, args.assets)
        fill_s = time.monotonic() - started
        first, status_page, deep, fetch = [], [], [], []
        cursor = None
        for _ in range(args.samples):
            t = time.perf_counter()
            page = catalog.list_assets(limit=50)
            first.append(time.perf_counter() - t)
            t = time.perf_counter()
            catalog.list_assets(status="failed", limit=50)
            status_page.append(time.perf_counter() - t)
            t = time.perf_counter()
            page = catalog.list_assets(limit=50, cursor=cursor)
            deep.append(time.perf_counter() - t)
            cursor = page.next_cursor
            asset_id = random.choice(ids)
            t = time.perf_counter()
            catalog.get_asset(asset_id)
            fetch.append(time.perf_counter() - t)
        report = {
            "assets": args.assets,
            "fill_s": round(fill_s, 1),
            "samples": args.samples,
            "list_first_page_50": percentiles(first),
            "list_by_status_failed_50": percentiles(status_page),
            "list_next_pages_by_cursor_50": percentiles(deep),
            "get_one_asset": percentiles(fetch),
        }
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "catalog_scale.json").write_text(json.dumps(report, indent=2) + "\n")
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
