"""CPU per pixel of each codec family's encoder against x264 `medium`: the weights of
core/local_cost.py (AV1_PRESET_COST, X265_OVER_X264) that split a sampled estimate per rung and
price a ladder without a sample.

    python benchmarks/encoder_cost.py [--seconds 8] [--rounds 3]

The bundled Big Buck Bunny excerpt at 1280x720, each encoder single-threaded (as the cost
sample runs), the variants alternating round by round; the decode and scale alone are
measured too and taken off. Prints the median CPU-seconds and the ratio to x264 `medium`;
writes benchmarks/results/encoder_cost.json.
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import subprocess
from pathlib import Path

from primevod.adapters.media.ffmpeg_binary import ffmpeg_exe

RESULTS = Path(__file__).parent / "results"
SOURCE = Path(__file__).parent.parent / "src/primevod/samples/bbb-excerpt.mp4"
X265_ONE_THREAD = "pools=1:frame-threads=1:log-level=error"
VARIANTS: dict[str, list[str]] = {
    "x264 veryfast": ["-c:v", "libx264", "-preset", "veryfast", "-crf", "23", "-threads", "1"],
    "x264 medium": ["-c:v", "libx264", "-preset", "medium", "-crf", "23", "-threads", "1"],
    "svtav1 preset 8": ["-c:v", "libsvtav1", "-preset", "8", "-crf", "35", "-threads", "1"],
    "svtav1 preset 9": ["-c:v", "libsvtav1", "-preset", "9", "-crf", "35", "-threads", "1"],
    "x265 veryfast": [
        *("-c:v", "libx265", "-preset", "veryfast", "-crf", "25"),
        *("-x265-params", X265_ONE_THREAD),
    ],
    "x265 medium": [
        *("-c:v", "libx265", "-preset", "medium", "-crf", "25"),
        *("-x265-params", X265_ONE_THREAD),
    ],
    "decode and scale": ["-c:v", "rawvideo"],
}


def cpu_of(encoder: list[str], seconds: float) -> float:
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    subprocess.run(
        [
            *(ffmpeg_exe(), "-v", "error", "-y", "-i", str(SOURCE), "-t", f"{seconds:g}"),
            *("-vf", "scale=1280:720", "-an", *encoder, "-f", "null", "-"),
        ],
        check=True,
        capture_output=True,
    )
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=8.0)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    cpu: dict[str, list[float]] = {name: [] for name in VARIANTS}
    for round_ in range(args.rounds):
        names = list(VARIANTS) if round_ % 2 == 0 else list(reversed(VARIANTS))
        for name in names:
            cpu[name].append(cpu_of(VARIANTS[name], args.seconds))
    base = statistics.median(cpu["decode and scale"])
    medium = statistics.median(cpu["x264 medium"]) - base
    report = {
        name: {
            "cpu_seconds": [round(c, 3) for c in runs],
            "encoder_over_x264_medium": round((statistics.median(runs) - base) / medium, 3),
        }
        for name, runs in cpu.items()
    }
    for name, row in report.items():
        print(
            f"{name:16s} {row['encoder_over_x264_medium']:.2f}x x264 medium  {row['cpu_seconds']}"
        )
    (RESULTS / "encoder_cost.json").write_text(
        json.dumps({"seconds": args.seconds, "variants": report}, indent=2) + "\n"
    )


if __name__ == "__main__":
    main()
