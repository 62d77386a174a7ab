"""`primevod process` of two source trees on the same title, alternating: did a change make
the pipeline slower?

    git worktree add /tmp/before <commit>
    python benchmarks/pipeline_ab.py --before /tmp/before/src [--after DIR/src]
        [--seconds 30] [--repeat 5]

Each run is a fresh `python -m primevod.cli.main process SOURCE --json` with its own data
folder (Python start, DBOS launch, probe, checksum, encode, packaging, validation, staging
and publishing), the quality check off so that the encode dominates less. `--before` runs
with that tree's `src` first on PYTHONPATH; `after` is the installed package. One untimed
run of each first (bytecode, page cache). The report gives every time, the medians and the
median of the per-pair ratios after/before (this machine drifts by several percent).
Results: benchmarks/results/pipeline_ab_<seconds>s.json.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from onepass_vs_separate import make_source  # type: ignore[import-not-found]

RESULTS = Path(__file__).parent / "results"


def process(source: Path, home: Path, src_tree: Path | None) -> float:
    env = {**os.environ, "PRIMEVOD_HOME": str(home), "PRIMEVOD_QUALITY_CHECK": "off"}
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    if src_tree is not None:
        env["PYTHONPATH"] = str(src_tree)
    started = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-m", "primevod.cli.main", "process", str(source), "--json"],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    wall = time.monotonic() - started
    assert json.loads(done.stdout)["status"] == "ready", done.stdout
    return wall


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--before", type=Path, required=True, help="the other tree's src/")
    parser.add_argument("--after", type=Path, help="this tree's src/ (default: installed)")
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    before_src = args.before.resolve()
    after_src = args.after.resolve() if args.after else None
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        source = work / "src720.mp4"
        name = make_source(source, args.seconds, 1280, 720)
        process(source, work / "warm-before", before_src)
        process(source, work / "warm-after", after_src)
        before: list[float] = []
        after: list[float] = []
        for i in range(args.repeat):
            before.append(process(source, work / f"before{i}", before_src))
            after.append(process(source, work / f"after{i}", after_src))
    report = {
        "source": f"{name}, {args.seconds:g} s, 1280x720",
        "before_s": [round(x, 2) for x in before],
        "after_s": [round(x, 2) for x in after],
        "before_median_s": round(statistics.median(before), 2),
        "after_median_s": round(statistics.median(after), 2),
        "ratio_median_of_pairs": round(
            statistics.median(a / b for a, b in zip(after, before, strict=True)), 3
        ),
    }
    RESULTS.mkdir(exist_ok=True)
    out = RESULTS / f"pipeline_ab_{args.seconds:g}s.json"
    out.write_text(json.dumps(report, indent=2) + "\n")
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
