"""BD-rate of x264 tunings against x264's defaults at `medium`, one size at a time, scored
with VMAF: does a tuning buy the H.264 family bits on grainy or noisy titles?

Each title (the ladder benchmark's sources) is encoded at CRF 16, 20, 24 and 28 per size
and tuning (plain CRF, no cap, no audio), every encode scored against the source at
1280x720 (every 2nd frame), and each tuning's four points compared with the defaults'.

    python benchmarks/x264_tunings.py [--seconds 10] [--titles pan,bbb,noisy]
        [--sizes 1280x720,960x540] [--tunings grain,psy0,aq3]

Writes benchmarks/results/x264_tunings.json.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import tempfile
from pathlib import Path

from ladder_bdrate import make_titles

from primevod.adapters.media.ffmpeg_binary import ffmpeg_exe, ffmpeg_version
from primevod.adapters.media.quality_meter import Comparison, compare
from primevod.core.bd_rate import bd_rate

RESULTS = Path(__file__).parent / "results"
CRFS = (16, 20, 24, 28)
TUNINGS: dict[str, list[str]] = {
    "default": [],
    "grain": ["-tune", "grain"],
    "psy0": ["-x264-params", "psy=0"],
    "aq3": ["-x264-params", "aq-mode=3"],
}


def encode(source: Path, out: Path, size: str, crf: int, tuning: list[str]) -> None:
    width, height = size.split("x")
    subprocess.run(
        [
            *(ffmpeg_exe(), "-v", "error", "-y", "-i", str(source), "-an"),
            *("-vf", f"scale={width}:{height}", "-c:v", "libx264", "-preset", "medium"),
            *("-crf", str(crf), *tuning, str(out)),
        ],
        check=True,
    )


def curve(source: Path, work: Path, size: str, name: str, seconds: float) -> list[list[float]]:
    """(kbps, VMAF) at each CRF."""
    points = []
    for crf in CRFS:
        out = work / f"{source.stem}-{size}-{name}-{crf}.mp4"
        encode(source, out, size, crf, TUNINGS[name])
        kbps = out.stat().st_size * 8 / 1000 / seconds
        score = compare(
            [Comparison(distorted=["-i", str(out)], reference=["-i", str(source)])],
            (1280, 720),
            subsample=2,
        )[0]
        points.append([round(kbps, 1), round(score.mean, 3)])
    return points


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--titles", default="pan,bbb,noisy")
    parser.add_argument("--sizes", default="1280x720,960x540")
    parser.add_argument("--tunings", default="grain,psy0,aq3")
    args = parser.parse_args()
    tunings = ["default", *args.tunings.split(",")]
    report: dict = {"ffmpeg": ffmpeg_version(), "seconds": args.seconds, "crfs": CRFS}
    rows = []
    with tempfile.TemporaryDirectory(prefix="x264-tunings-") as tmp:
        work = Path(tmp)
        for title, source in make_titles(work, args.seconds, args.titles.split(",")).items():
            for size in args.sizes.split(","):
                curves = {name: curve(source, work, size, name, args.seconds) for name in tunings}
                for name in tunings[1:]:
                    bd = bd_rate(curves["default"], curves[name])
                    rows.append({"title": title, "size": size, "tuning": name, "bd_rate": bd})
                    shown = "n/a" if bd is None else f"{bd:+.1f} %"
                    print(f"{title:6s} {size:9s} {name:6s} BD-rate {shown}", flush=True)
                report.setdefault("curves", {})[f"{title} {size}"] = curves
    report["bd_rates"] = rows
    (RESULTS / "x264_tunings.json").write_text(json.dumps(report, indent=2) + "\n")


if __name__ == "__main__":
    main()
