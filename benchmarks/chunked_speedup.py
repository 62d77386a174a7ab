"""Split-and-stitch across workers: the wall time of one long title with one worker and with
two, each worker pinned to one core (`taskset`), so the speed-up is measurable on a 2-core
machine.

    python benchmarks/chunked_speedup.py [--seconds 120] [--chunk-seconds 12] [--rounds 3]

Workers are `primevod worker` processes sharing a throwaway PostgreSQL cluster (catalog and
DBOS) and one data folder (the local store; each has its own scratch folder). Each round
runs, in turn: the single-pass encode on one worker (chunking off), the chunked encode on
one worker, the chunked encode on two. Time: from the workflow's start to `ready`. Also
reported, from the chunked runs' step records: the compute in chunk encodes against the
single encode's (the per-chunk overhead: decode margins, process start, uploads) and the
serial part (plan, stitch, publish), which docs/scale-out.md uses to extrapolate to more
workers. `--report LOG` rebuilds the report from the lines an earlier run printed.
Results: benchmarks/results/chunked_speedup.json.
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
SERIAL_STEPS = ("ingest", "plan", "stitch", "publish")


def start_worker(env: dict[str, str], core: int, log: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        ["taskset", "-c", str(core), sys.executable, "-m", "primevod.cli.main", "worker"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=open(log, "ab"),
        start_new_session=True,
    )


def one_run(
    new_database, work: Path, source: Path, workers: int, chunk_seconds: float
) -> dict[str, object]:
    env = {
        **os.environ,
        "PRIMEVOD_HOME": str(work / "home"),
        "PRIMEVOD_DATABASE_URL": new_database(),
        "PRIMEVOD_DBOS_DATABASE_URL": new_database(),
        "PRIMEVOD_ENCODE_CONCURRENCY": "1",
        "PRIMEVOD_CHUNK_CONCURRENCY": "1",
        "PRIMEVOD_CHUNK_SECONDS": str(chunk_seconds),
        "PRIMEVOD_QUALITY_CHECK": "off",
        "PRIMEVOD_CANARY_INTERVAL_MINUTES": "0",
    }
    env.pop("PRIMEVOD_WORKER_ID", None)
    procs = [start_worker(env, core, work / f"w{core}.log") for core in range(workers)]
    from primevod import wiring
    from primevod.pipeline import workflows

    settings = Settings(
        home=work / "home",
        database_url=env["PRIMEVOD_DATABASE_URL"],
        dbos_database_url=env["PRIMEVOD_DBOS_DATABASE_URL"],
    )
    try:
        rt = wiring.connect(settings)
        while len(rt.workers.list_workers(states=("live",))) < workers:
            time.sleep(0.2)
        asset = wiring.submit_file(source)
        started = time.monotonic()
        workflows.start(rt, asset.id)
        while (current := rt.catalog.get_asset(asset.id)).status.value not in ("ready", "failed"):
            time.sleep(0.2)
        wall = time.monotonic() - started
        if current.status.value != "ready":
            raise SystemExit(f"the encode failed: {current.error}")
        steps = rt.catalog.get_execution(current.execution_id or "").steps
        wiring.stop()
        return {**_figures(wall, steps), "bitrates_kbps": _bitrates(current.renditions)}
    finally:
        for proc in procs:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


def _bitrates(renditions: list[dict]) -> dict[str, list[int]]:
    """Each rendition's measured average and peak (RFC 8216) bitrate: what chunk joins do
    to the rate (each chunk's encoder starts with its own VBV buffer)."""
    return {
        r["name"]: [r["average_bitrate"] // 1000, r["peak_bitrate"] // 1000] for r in renditions
    }


def _figures(wall: float, steps: list) -> dict[str, object]:
    seconds = {s.name: round(s.duration or 0.0, 2) for s in steps}
    chunks = [v for k, v in seconds.items() if k.startswith("chunk-")]
    return {
        "wall_s": round(wall, 2),
        "chunks": len(chunks),
        "chunk_compute_s": round(sum(chunks), 2) if chunks else None,
        "audio_s": seconds.get("audio"),
        "serial_s": round(sum(seconds.get(name, 0.0) for name in SERIAL_STEPS), 2),
        "process_s": seconds.get("process"),
        "steps_s": seconds,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=120.0)
    parser.add_argument("--chunk-seconds", type=float, default=12.0)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--report", type=Path, help="rebuild the report from a printed log")
    args = parser.parse_args()
    if args.report:
        return _write(_report(args, _runs_from_log(args.report)))
    variants = {"single_1w": (1, 0.0), "chunked_1w": (1, args.chunk_seconds)}
    variants["chunked_2w"] = (2, args.chunk_seconds)
    runs: dict[str, list[dict[str, object]]] = {name: [] for name in variants}
    with tempfile.TemporaryDirectory() as tmp, postgres_cluster() as new_database:
        source = make_sample(Path(tmp) / "src.mp4", seconds=args.seconds, width=1280, height=720)
        for i in range(args.rounds):
            for name, (workers, chunk_seconds) in variants.items():
                work = Path(tmp) / f"{name}-{i}"
                work.mkdir()
                runs[name].append(one_run(new_database, work, source, workers, chunk_seconds))
                print(name, json.dumps(runs[name][-1]), flush=True)
    _write(_report(args, runs))


def _write(report: dict) -> None:
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "chunked_speedup.json").write_text(json.dumps(report, indent=2) + "\n")
    print(json.dumps({k: v for k, v in report.items() if k != "runs"}, indent=2))


def _runs_from_log(log: Path) -> dict[str, list[dict[str, object]]]:
    runs: dict[str, list[dict[str, object]]] = {}
    for line in log.read_text().splitlines():
        name, _, data = line.partition(" ")
        if name in ("single_1w", "chunked_1w", "chunked_2w"):
            runs.setdefault(name, []).append(json.loads(data))
    for figures in runs.values():  # logs of runs before the audio step had its own figure
        for run in figures:
            steps = run["steps_s"]
            run["audio_s"] = run.get("audio_s") or steps.get("audio") or steps.get("extras")  # type: ignore[union-attr]
    return runs


def _median(runs: list[dict[str, object]], key: str) -> float:
    return round(statistics.median(float(r[key]) for r in runs), 2)  # type: ignore[arg-type]


def _report(args: argparse.Namespace, runs: dict[str, list[dict[str, object]]]) -> dict:
    single = _median(runs["single_1w"], "wall_s")
    one, two = _median(runs["chunked_1w"], "wall_s"), _median(runs["chunked_2w"], "wall_s")
    single_encode = _median(runs["single_1w"], "process_s")
    compute = _median(runs["chunked_1w"], "chunk_compute_s")
    audio = _median(runs["chunked_1w"], "audio_s")
    count = int(runs["chunked_1w"][0]["chunks"])  # type: ignore[arg-type]
    return {
        "title": f"{args.seconds:g} s 1280x720 30 fps, default ladder, preset veryfast",
        "chunk_seconds": args.chunk_seconds,
        "chunks": count,
        "rounds": len(runs["chunked_2w"]),
        "median_wall_s": {"single_1w": single, "chunked_1w": one, "chunked_2w": two},
        "speedup_2w_vs_chunked_1w": round(one / two, 3),
        "speedup_2w_vs_single_1w": round(single / two, 3),
        "goal_speedup": 1.7,
        "median_single_encode_s": single_encode,
        "median_chunk_compute_s": compute,
        "median_audio_s": audio,
        "per_chunk_overhead_s": round((compute + audio - single_encode) / count, 2),
        "median_serial_s": _median(runs["chunked_2w"], "serial_s"),
        "bitrates_kbps_single_vs_chunked": {
            name: [single_rate, runs["chunked_2w"][0]["bitrates_kbps"][name]]  # type: ignore[index]
            for name, single_rate in runs["single_1w"][0]["bitrates_kbps"].items()  # type: ignore[union-attr]
        },
        "runs": runs,
    }


if __name__ == "__main__":
    main()
