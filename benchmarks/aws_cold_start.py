"""The Lambda bundle's size and each handler's cold-start import time, measured locally.

    python benchmarks/aws_cold_start.py [--runs 7]
    (a Python 3.12 on the PATH as python3.12, or named by PRIMEVOD_LAMBDA_PYTHON)

Each run is a fresh interpreter of the Lambda runtime's Python (3.12) with only the bundle
and the runtime's own packages (boto3 & co., linked from this environment) on its path, as
on Lambda: the time from the start of the import to the handler in hand (no AWS client
is made before the first call). The tasks module (ingest, plan, validate, publish,
failure) is one import, so one of its handlers stands for all five. The handlers are
measured in turns (A, B, C, A, B, C, ...) and the medians reported. This machine is not a
Lambda sandbox (a Lambda's CPU share grows with its memory: 512 MB is a third of a vCPU),
so these are lower bounds. Results: benchmarks/results/aws_cold_start.json.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import tempfile
from pathlib import Path

from primevod.aws.bundle import (
    LAMBDA_PYTHON,
    build_bundle,
    bundle_size_zipped,
    lambda_interpreter,
    runtime_stand_in,
)

RESULTS = Path(__file__).parent / "results"
H = "primevod.aws.handlers"
HANDLERS = [  # as in aws/cdk/functions.py (not imported: it starts the CDK's Node.js)
    f"{H}.start.handler",
    f"{H}.tasks.ingest_handler",
    f"{H}.uploads.handler",
    f"{H}.playback.handler",
    f"{H}.authorizer.handler",
    f"{H}.canary.handler",
]
PROBE = """
import sys, time
started = time.perf_counter()
import importlib
module, _, name = sys.argv[1].rpartition(".")
getattr(importlib.import_module(module), name)
print(time.perf_counter() - started)
"""


def import_seconds(python: str, paths: list[Path], handler: str) -> float:
    bootstrap = f"import sys; sys.path[:0] = {[str(p) for p in paths]!r}\n"
    done = subprocess.run(
        [python, "-I", "-S", "-c", bootstrap + PROBE, handler],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    return float(done.stdout.strip())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    python = lambda_interpreter()
    if python is None:
        raise SystemExit(f"needs a Python {LAMBDA_PYTHON[0]}.{LAMBDA_PYTHON[1]} (python3.12)")
    with tempfile.TemporaryDirectory() as tmp:
        bundle = build_bundle(Path(tmp) / "bundle")
        paths = [bundle, runtime_stand_in(Path(tmp) / "runtime")]
        times: dict[str, list[float]] = {handler: [] for handler in HANDLERS}
        for _ in range(args.runs):
            for handler in HANDLERS:
                times[handler].append(import_seconds(python, paths, handler))
        zipped = bundle_size_zipped(bundle)
    result = {
        "bundle_zipped_mb": round(zipped / 1e6, 2),
        "python": ".".join(map(str, LAMBDA_PYTHON)),
        "runs": args.runs,
        "import_ms_median": {k: round(statistics.median(v) * 1000, 1) for k, v in times.items()},
        "import_ms_max": {k: round(max(v) * 1000, 1) for k, v in times.items()},
    }
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "aws_cold_start.json").write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
