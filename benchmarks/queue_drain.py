"""1,000 asset workflows enqueued at once: how long the enqueue takes, and that the queue
drains with every asset ready (none lost, none run twice).

    python benchmarks/queue_drain.py [--count 1000] [--workers 2] [--backend sqlite|postgres]

Each asset is a real tiny clip (64x36, 0.5 s) run through the real workflow (ingest, encode,
package, validate, publish; the quality check off). `sqlite`: the embedded default, one
process running `--workers` encodes at once. `postgres`: a throwaway PostgreSQL cluster for
the catalog and DBOS, `--workers` separate `primevod worker` processes (one encode each)
sharing the data folder, this process only a client. Results:
benchmarks/results/queue_drain[_postgres].json.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from support.postgres import postgres_cluster  # type: ignore[import-not-found]

from primevod import wiring
from primevod.adapters.media.samples import make_sample
from primevod.core.assets import AssetStatus
from primevod.pipeline import workflows
from primevod.settings import Settings

RESULTS = Path(__file__).parent / "results"


def drain(rt, assets: list, count: int) -> dict[str, float]:
    started = time.monotonic()
    for asset in assets:
        workflows.start(rt, asset.id)
    enqueue_s = time.monotonic() - started
    started = time.monotonic()
    pending = {a.id for a in assets}
    while pending:
        time.sleep(1.0)
        for asset_id in list(pending):
            if rt.catalog.get_asset(asset_id).status in (AssetStatus.READY, AssetStatus.FAILED):
                pending.discard(asset_id)
    drain_s = time.monotonic() - started
    return {
        "enqueue_s": round(enqueue_s, 2),
        "drain_s": round(drain_s, 1),
        "per_minute": round(count / drain_s * 60, 1),
    }


def start_workers(settings: Settings, count: int, logs: Path) -> list[subprocess.Popen[bytes]]:
    env = {
        **os.environ,
        "PRIMEVOD_HOME": str(settings.home),
        "PRIMEVOD_DATABASE_URL": settings.database_url or "",
        "PRIMEVOD_DBOS_DATABASE_URL": settings.dbos_database_url or "",
        "PRIMEVOD_ENCODE_CONCURRENCY": "1",
        "PRIMEVOD_PRESET": "ultrafast",
        "PRIMEVOD_QUALITY_CHECK": "off",
    }
    return [
        subprocess.Popen(
            [sys.executable, "-m", "primevod.cli.main", "worker"],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=open(logs / f"worker{i}.log", "ab"),
            start_new_session=True,
        )
        for i in range(count)
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=1000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--backend", choices=["sqlite", "postgres"], default="sqlite")
    args = parser.parse_args()
    with contextlib.ExitStack() as stack:
        tmp = Path(stack.enter_context(tempfile.TemporaryDirectory()))
        home = tmp / "home"
        procs: list[subprocess.Popen[bytes]] = []
        if args.backend == "postgres":
            new_database = stack.enter_context(postgres_cluster())
            settings = Settings(
                home=home, database_url=new_database(), dbos_database_url=new_database()
            )
            procs = start_workers(settings, args.workers, tmp)
            rt = wiring.connect(settings)
            while len(rt.workers.list_workers(states=("live",))) < args.workers:
                time.sleep(0.2)
        else:
            settings = Settings(
                home=home, preset="ultrafast", encode_concurrency=args.workers, quality_check="off"
            )
            rt = wiring.start(settings)
        clip = make_sample(tmp / "tiny.mp4", seconds=0.5, width=64, height=36)
        started = time.monotonic()
        assets = [wiring.submit_file(clip, title=f"tiny {i}") for i in range(args.count)]
        created_s = time.monotonic() - started
        figures = drain(rt, assets, args.count)
        statuses = [rt.catalog.get_asset(a.id).status.value for a in assets]
        executions = [len(rt.catalog.list_executions(a.id)) for a in assets]
        wiring.stop()
        for proc in procs:
            os.killpg(proc.pid, signal.SIGTERM)
            proc.wait(timeout=60)
    report = {
        "backend": args.backend,
        "workflows": args.count,
        "workers": args.workers,
        "assets_created_s": round(created_s, 2),
        **figures,
        "ready": statuses.count("ready"),
        "failed": statuses.count("failed"),
        "executions_per_asset": sorted(set(executions)),
    }
    RESULTS.mkdir(exist_ok=True)
    name = "queue_drain.json" if args.backend == "sqlite" else "queue_drain_postgres.json"
    (RESULTS / name).write_text(json.dumps(report, indent=2) + "\n")
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
