"""Wall time of the whole multi-codec `auto` job against the Apple H.264 ladder at x264
`medium`, alternating, on the same titles: issue 20's speed goal (at most 2.5x).

Each round encodes, in turn, (A) the `apple` ladder at preset `medium` and (B) the `auto`
ladder with every family of `--codecs` (its analysis from scratch, no cache, then the one
FFmpeg run of every family) at the same x264 preset and SVT-AV1 `--av1-preset`; both with
the real pipeline (CMAF package, validation), thumbnails off as in ladder_bdrate.py. The
report gives every time, the medians and the median of the per-round ratios B/A.

    python benchmarks/multicodec_speed.py [--titles bbb,noisy] [--seconds 30]
        [--codecs h264,av1] [--av1-presets 9] [--rounds 2] [--out FILE]

Run it on a quiet machine: it measures wall time. Writes
benchmarks/results/multicodec_speed.json (or --out).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from ladder_bdrate import anchor_policy, make_titles  # type: ignore[import-not-found]

from primevod.adapters.media.ffmpeg_binary import ffmpeg_version
from primevod.adapters.media.ffmpeg_command import EncodeOptions
from primevod.adapters.media.pyav_probe import probe_file
from primevod.adapters.media.transcoder import MediaEngine
from primevod.core.ladder import LadderPolicy, with_codecs
from primevod.core.policies import get_policy

RESULTS = Path(__file__).parent / "results"


def timed_encode(source: Path, out: Path, policy: LadderPolicy, options: EncodeOptions) -> float:
    probe = probe_file(source)
    started = time.monotonic()
    result = MediaEngine(options).transcode(source, out, policy, probe=probe, overwrite=True)
    wall = time.monotonic() - started
    assert result.validation.passed, result.validation
    return wall


def run_title(
    source: Path, work: Path, codecs: str, presets: list[int], rounds: int
) -> dict[str, Any]:
    apple = EncodeOptions(preset="medium", thumbnails=False)
    auto = with_codecs(get_policy("auto"), codecs)
    times: dict[str, list[float]] = {"apple": [], **{f"auto-av1p{p}": [] for p in presets}}
    for n in range(rounds):
        times["apple"].append(timed_encode(source, work / "apple", anchor_policy(), apple))
        for p in presets:
            options = EncodeOptions(preset="medium", thumbnails=False, av1_preset=p)
            times[f"auto-av1p{p}"].append(timed_encode(source, work / "auto", auto, options))
        print(f"  round {n + 1}: " + ", ".join(f"{k} {v[-1]:.1f} s" for k, v in times.items()))
    return {
        "seconds": {k: [round(x, 2) for x in v] for k, v in times.items()},
        "median_seconds": {k: round(statistics.median(v), 2) for k, v in times.items()},
        "median_ratio_vs_apple": {
            k: round(statistics.median(b / a for a, b in zip(times["apple"], v, strict=True)), 3)
            for k, v in times.items()
            if k != "apple"
        },
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--titles", default="bbb,noisy")
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--codecs", default="h264,av1")
    parser.add_argument(
        "--av1-presets",
        default=str(EncodeOptions().av1_preset),
        help="SVT-AV1 presets to time, e.g. 8,9 (rungs under 720p's pixels: one slower)",
    )
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--out", type=Path, default=RESULTS / "multicodec_speed.json")
    args = parser.parse_args()
    presets = [int(p) for p in args.av1_presets.split(",") if p]
    report: dict[str, Any] = {
        "machine": {"cpus": os.cpu_count(), "platform": platform.platform()},
        "ffmpeg": ffmpeg_version(),
        "seconds": args.seconds,
        "codecs": args.codecs,
        "anchor": "apple ladder, x264 medium, 1-pass ABR",
        "titles": {},
    }
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        titles = make_titles(work, args.seconds, args.titles.split(","))
        for name, source in titles.items():
            print(f"[{name}]", flush=True)
            report["titles"][name] = run_title(source, work, args.codecs, presets, args.rounds)
            args.out.parent.mkdir(parents=True, exist_ok=True)
            args.out.write_text(json.dumps(report, indent=2) + "\n")
    print(json.dumps({k: v["median_ratio_vs_apple"] for k, v in report["titles"].items()}))


if __name__ == "__main__":
    main()
