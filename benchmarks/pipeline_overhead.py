"""`primevod process` against the bare FFmpeg command that writes the same outputs.

    python benchmarks/pipeline_overhead.py [--seconds 30] [--repeat 5]

The pipeline's wall time covers everything a user waits for: Python start, DBOS launch,
probe, checksum, the encode, packaging, validation and publishing to the destination bucket.
The bare command is the exact FFmpeg command the pipeline builds for that source (all rungs,
thumbnails, poster, sprite). That command computes no VMAF, so the compared run sets
`PRIMEVOD_QUALITY_CHECK=off`; one more run with the default check (`warn`) reports what the
sampled VMAF step adds. One untimed run first warms the page cache and lets Python write its
bytecode (as `pip install` does); then the two commands alternate, and the report gives the
ratio of the best runs and the median of the per-pair ratios (this machine's speed drifts by
several percent between identical FFmpeg runs).
Results: benchmarks/results/pipeline_overhead_<seconds>s.json.
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

from primevod.adapters.media.ffmpeg_binary import ffmpeg_exe
from primevod.adapters.media.ffmpeg_command import EncodeOptions, build_command
from primevod.adapters.media.pyav_probe import probe_file
from primevod.core.ladder import plan_ladder
from primevod.core.policies import get_policy
from primevod.core.thumbnails import plan_thumbnails

RESULTS = Path(__file__).parent / "results"


def bare_ffmpeg(source: Path, work: Path) -> float:
    probe = probe_file(source)
    ladder = plan_ladder(probe, get_policy("default"))
    thumbs = plan_thumbnails(ladder.source_display, probe.duration or 0)
    (work / "thumbs").mkdir(parents=True)
    cmd = build_command(ffmpeg_exe(), source, probe, ladder, work, EncodeOptions(), thumbs)
    started = time.monotonic()
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
    return time.monotonic() - started


def pipeline(source: Path, home: Path, quality: str) -> tuple[float, dict[str, object]]:
    env = {**os.environ, "PRIMEVOD_HOME": str(home), "PRIMEVOD_QUALITY_CHECK": quality}
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    started = time.monotonic()
    proc = subprocess.run(
        [sys.executable, "-m", "primevod.cli.main", "process", str(source), "--json"],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    return time.monotonic() - started, json.loads(proc.stdout)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        source = work / "src720.mp4"
        name = make_source(source, args.seconds, 1280, 720)
        bare: list[float] = []
        piped: list[float] = []
        pipeline(source, work / "warm-up", "off")
        for i in range(args.repeat):
            bare.append(bare_ffmpeg(source, work / f"bare{i}"))
            wall, result = pipeline(source, work / f"home{i}", "off")
            assert result["status"] == "ready", result
            piped.append(wall)
        checked, result = pipeline(source, work / "home-checked", "warn")
        assert result["status"] == "ready", result
        report = {
            "source": f"{name}, {args.seconds:g} s, 1280x720",
            "bare_ffmpeg_s": [round(x, 2) for x in bare],
            "primevod_process_s": [round(x, 2) for x in piped],
            "ratio_best": round(min(piped) / min(bare), 3),
            "ratio_median_of_pairs": round(
                statistics.median(p / b for p, b in zip(piped, bare, strict=True)), 3
            ),
            "primevod_process_with_quality_check_s": round(checked, 2),
            "quality_check_adds": round(checked / min(piped) - 1, 3),
        }
    RESULTS.mkdir(exist_ok=True)
    name = f"pipeline_overhead_{args.seconds:g}s.json"
    (RESULTS / name).write_text(json.dumps(report, indent=2) + "\n")
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
