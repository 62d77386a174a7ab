"""What access policies, the audit trail and the request hardening cost on the API: the same
requests against a server of the code before them (`--baseline`, default the last commit
without policies, audit, rate limits or body limits) and against this checkout.

    python benchmarks/security_overhead.py [--requests 1000] [--rounds 5] [--baseline REV]

Each configuration gets its own home with one processed asset and a viewer key made by its
own code. Every round starts each server in turn (alternated, so the machine's drift hits
both alike) and sends `--requests` sequential keep-alive requests of two kinds:
`GET /api/v1/assets?limit=20` (a list: one policy decision for the route and one per asset)
and `GET /api/v1/assets/{id}` (one asset: its collection and id checked). Each request of
the current code also writes its audit record. Summaries are medians over the rounds next to
the best round of each. Results: benchmarks/results/security_overhead.json.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
from io import BytesIO
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
from support.server import free_port  # type: ignore[import-not-found]

RESULTS = Path(__file__).parent / "results"
ROOT = Path(__file__).resolve().parent.parent
BASELINE = "7cc8f14"  # the last commit before access policies (7de909c) and the audit trail
QUIET = {
    "PRIMEVOD_CANARY_INTERVAL_MINUTES": "0",
    "PRIMEVOD_QUALITY_CHECK": "off",
    "PRIMEVOD_PRESET": "ultrafast",
    "PRIMEVOD_PROFILE": "dev",
    # generous limits: the benchmark measures the checks, not a refusal
    "PRIMEVOD_RATE_LIMIT_PER_IP": "off",
    "PRIMEVOD_RATE_LIMIT_PER_KEY": "off",
}


def baseline_source(rev: str, into: Path) -> Path:
    """The package source of `rev` (git archive; the working tree is not touched)."""
    blob = subprocess.run(
        ["git", "-C", str(ROOT), "archive", "--format=tar", rev, "src"],
        capture_output=True,
        check=True,
    ).stdout
    with tarfile.open(fileobj=BytesIO(blob)) as archive:
        archive.extractall(into, filter="data")
    return into / "src"


def _env(home: Path, source: Path | None) -> dict[str, str]:
    env = {**os.environ, **QUIET, "PRIMEVOD_HOME": str(home)}
    if source is not None:  # ahead of the editable install on sys.path
        env["PYTHONPATH"] = str(source)
    return env


def cli(home: Path, source: Path | None, *args: str) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "primevod.cli.main", *args],
        env=_env(home, source),
        capture_output=True,
        text=True,
        check=True,
    )
    return done.stdout


def prepare(home: Path, source: Path | None, clip: Path) -> tuple[str, str]:
    """One processed asset and a viewer key, made by the configuration's own code."""
    asset = json.loads(cli(home, source, "process", str(clip), "--json"))["asset_id"]
    key = cli(home, source, "keys", "create", "--role", "viewer").strip().splitlines()[-1]
    return asset, key


class Served:
    def __init__(self, home: Path, source: Path | None) -> None:
        self.base = f"http://127.0.0.1:{free_port()}"
        port = self.base.rsplit(":", 1)[1]
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "primevod.cli.main", "serve", "--port", port],
            env=_env(home, source),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"{self.base}/healthz", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("server did not start")
            time.sleep(0.2)

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(timeout=20)


def _timed(client: httpx.Client, url: str, n: int, headers: dict[str, str]) -> list[float]:
    out = []
    for _ in range(n):
        started = time.perf_counter()
        response = client.get(url, headers=headers)
        out.append((time.perf_counter() - started) * 1000)
        if response.status_code != 200:
            raise RuntimeError(f"{url}: {response.status_code} {response.text[:200]}")
    return out


def one_round(home: Path, source: Path | None, asset: str, key: str, n: int) -> dict[str, float]:
    server = Served(home, source)
    headers = {"Authorization": f"Bearer {key}"}
    urls = {
        "list": f"{server.base}/api/v1/assets?limit=20",
        "get": f"{server.base}/api/v1/assets/{asset}",
    }
    try:
        with httpx.Client(timeout=30) as client:
            row: dict[str, float] = {}
            for name, url in urls.items():
                _timed(client, url, 100, headers)  # warm up
                latencies = _timed(client, url, n, headers)
                row[f"{name}_median_ms"] = round(statistics.median(latencies), 3)
    finally:
        server.stop()
    return row


def summary(rounds: dict[str, list[dict[str, float]]], how: object) -> dict[str, dict[str, float]]:
    out = {}
    for key in rounds["baseline"][0]:
        base = how(r[key] for r in rounds["baseline"])  # type: ignore[operator]
        now = how(r[key] for r in rounds["current"])  # type: ignore[operator]
        out[key] = {
            "baseline": round(base, 3),
            "current": round(now, 3),
            "overhead_pct": round((now / base - 1) * 100, 2),
        }
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--baseline", default=BASELINE)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        clip = work / "clip.mp4"
        cli(work / "scratch", None, "sample", str(clip), "--seconds", "2", "--size", "320x180")
        configs = {"baseline": baseline_source(args.baseline, work / "base"), "current": None}
        prepared = {name: prepare(work / name, source, clip) for name, source in configs.items()}
        rounds: dict[str, list[dict[str, float]]] = {name: [] for name in configs}
        for _ in range(args.rounds):
            for name, source in configs.items():
                asset, key = prepared[name]
                rounds[name].append(one_round(work / name, source, asset, key, args.requests))
    head = subprocess.run(
        ["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"], capture_output=True, text=True
    ).stdout.strip()
    report = {
        "baseline": args.baseline,
        "current": head,
        "requests_per_round": args.requests,
        "rounds": args.rounds,
        "summary_median_of_rounds": summary(rounds, statistics.median),
        "summary_best_of_rounds": summary(rounds, min),
        "latency_rounds": rounds,
    }
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "security_overhead.json").write_text(json.dumps(report, indent=2) + "\n")
    print(json.dumps(report["summary_median_of_rounds"], indent=2))


if __name__ == "__main__":
    main()
