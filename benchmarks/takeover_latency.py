"""How long a dead worker's asset waits: from the moment a worker stops mid-encode to the
survivor declaring it lost and starting the interrupted step again.

    python benchmarks/takeover_latency.py [--runs 3] [--dead-after 30]

Two `primevod worker` processes share a throwaway PostgreSQL cluster (catalog and DBOS) and
one data folder (local store; each worker has its own scratch folder). The worker running
the encode is frozen with SIGSTOP, which looks to the others like a machine that vanished:
its process still exists, so only the heartbeat rule can declare it dead (a worker killed on
the same machine is claimed sooner, by its missing pid). Reported per run: seconds to the
`worker.lost` event and to the survivor's start of the `process` step's second attempt.
Results: benchmarks/results/takeover_latency.json.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from support.postgres import postgres_cluster  # type: ignore[import-not-found]

from primevod.adapters.media.samples import make_sample
from primevod.settings import Settings

RESULTS = Path(__file__).parent / "results"


def start_worker(env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "primevod.cli.main", "worker"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=open(log, "ab"),
        start_new_session=True,
    )


def one_run(new_database, work: Path, source: Path, dead_after: float) -> dict[str, float]:
    env = {
        **os.environ,
        "PRIMEVOD_HOME": str(work / "home"),
        "PRIMEVOD_DATABASE_URL": new_database(),
        "PRIMEVOD_DBOS_DATABASE_URL": new_database(),
        "PRIMEVOD_WORKER_DEAD_AFTER_SECONDS": str(dead_after),
        "PRIMEVOD_ENCODE_CONCURRENCY": "1",
        "PRIMEVOD_PRESET": "medium",
        "PRIMEVOD_QUALITY_CHECK": "off",
    }
    workers = [start_worker(env, work / f"w{i}.log") for i in range(2)]
    from primevod import wiring
    from primevod.pipeline import workflows

    settings = Settings(
        home=work / "home",
        database_url=env["PRIMEVOD_DATABASE_URL"],
        dbos_database_url=env["PRIMEVOD_DBOS_DATABASE_URL"],
    )
    try:
        rt = wiring.connect(settings)
        while len(rt.workers.list_workers(states=("live",))) < 2:
            time.sleep(0.2)
        asset = wiring.submit_file(source)
        workflows.start(rt, asset.id)
        while rt.catalog.get_asset(asset.id).progress < 0.05:
            time.sleep(0.1)
        execution_id = rt.catalog.get_asset(asset.id).execution_id or ""
        runner = next(
            w
            for w in rt.workers.list_workers(states=("live",))
            if w.role == "worker"
            and any(p.pid == w.pid for p in workers)
            and _runs(settings, w.id, execution_id)
        )
        victim = next(p for p in workers if p.pid == runner.pid)
        stopped = time.time()
        os.killpg(victim.pid, signal.SIGSTOP)
        lost = restarted = None
        while lost is None or restarted is None:
            if lost is None:
                events = [e for e in rt.catalog.list_events() if e.type == "worker.lost"]
                lost = events[0].created_at.timestamp() if events else None
            if restarted is None:
                steps = rt.catalog.get_execution(execution_id).steps
                again = [s for s in steps if s.name == "process" and s.attempt == 2]
                restarted = again[0].started_at.timestamp() if again else None
            time.sleep(0.2)
        wiring.stop()
        return {
            "to_lost_s": round(lost - stopped, 2),
            "to_restart_s": round(restarted - stopped, 2),
        }
    finally:
        for proc in workers:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


def _runs(settings: Settings, worker_id: str, workflow_id: str) -> bool:
    from dbos import DBOSClient

    client = DBOSClient(system_database_url=settings.dbos_database_url or "")
    try:
        rows = client.list_workflows(workflow_ids=[workflow_id], load_input=False)
        return bool(rows) and rows[0].executor_id == worker_id
    finally:
        client.destroy()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--dead-after", type=float, default=30.0)
    args = parser.parse_args()
    runs = []
    with tempfile.TemporaryDirectory() as tmp, postgres_cluster() as new_database:
        source = make_sample(Path(tmp) / "src.mp4", seconds=40, width=1280, height=720)
        for i in range(args.runs):
            work = Path(tmp) / f"run{i}"
            work.mkdir()
            runs.append(one_run(new_database, work, source, args.dead_after))
            print(json.dumps(runs[-1]), flush=True)
    report = {
        "dead_after_s": args.dead_after,
        "runs": runs,
        "median_to_lost_s": statistics.median(r["to_lost_s"] for r in runs),
        "median_to_restart_s": statistics.median(r["to_restart_s"] for r in runs),
        "goal_s": args.dead_after + 10,
    }
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "takeover_latency.json").write_text(json.dumps(report, indent=2) + "\n")
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
