"""x264 presets and options against bits at equal VMAF, per picture size.

On the first seconds of two 720p benchmark titles (Big Buck Bunny looped, the noisy
high-motion clip; made as in ladder_bdrate.py), every size of 234p to 720p is encoded at
CRF 20 to 36 with each configuration (one FFmpeg run per configuration, one thread per
encoder, 2 s GOPs), scored with VMAF against the source at 720p (every 3rd frame), and
compared with `medium` by BD-rate: per size, and over the envelope of all sizes. Used to
choose the `auto` ladder's small-rung preset (docs/quality.md).

Run by hand (about 25 minutes on 2 cores; finished configurations are kept):

    python benchmarks/preset_sweep.py [--seconds 10] [--configs medium,slow,...] [--fresh]

Writes benchmarks/results/preset_sweep.json and prints the comparison.
"""

from __future__ import annotations

import argparse
import itertools
import json
import resource
import subprocess
import tempfile
import time
from pathlib import Path

from ladder_bdrate import make_titles  # beside this script

from primevod.adapters.media.ffmpeg_binary import ffmpeg_exe
from primevod.adapters.media.quality_meter import Comparison, compare
from primevod.core.quality import bd_rate

RESULTS = Path(__file__).parent / "results" / "preset_sweep.json"
SIZES = [(1280, 720), (960, 540), (640, 360), (416, 234)]
CRFS = [20, 24, 28, 32, 36]
FPS = {"bbb": 25, "noisy": 30}
CONFIGS = {
    "medium": ["-preset", "medium", "-sc_threshold", "0"],
    "medium_sc": ["-preset", "medium", "-sc_threshold", "40"],
    "slow": ["-preset", "slow", "-sc_threshold", "0"],
    "slower": ["-preset", "slower", "-sc_threshold", "0"],
    "medium_aq3": ["-preset", "medium", "-sc_threshold", "0", "-x264-params", "aq-mode=3"],
}


def child_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def sweep(title: str, source: Path, name: str, work: Path, seconds: float) -> dict:
    fps = FPS[title]
    outs = list(itertools.product(SIZES, CRFS))
    graph = f"[0:v]split={len(outs)}" + "".join(f"[c{i}]" for i in range(len(outs))) + ";"
    graph += ";".join(
        f"[c{i}]scale={w}:{h}:flags=bicubic,format=yuv420p[e{i}]"
        for i, ((w, h), _) in enumerate(outs)
    )
    cmd = [ffmpeg_exe(), "-v", "error", "-y", "-i", str(source), "-filter_complex", graph]
    files = [work / f"{title}-{name}-{i}.h264" for i in range(len(outs))]
    for i, (_, crf) in enumerate(outs):
        cmd += ["-map", f"[e{i}]", "-c:v", "libx264", *CONFIGS[name], "-threads", "1"]
        cmd += ["-crf", str(crf), "-g", str(2 * fps), "-keyint_min", str(2 * fps)]
        cmd += ["-f", "h264", str(files[i])]
    cpu0, wall0 = child_cpu(), time.time()
    subprocess.run(cmd, check=True)
    cpu, wall = child_cpu() - cpu0, time.time() - wall0
    comparisons = [
        Comparison(
            distorted=["-f", "h264", "-framerate", str(fps), "-i", str(f)],
            reference=["-i", str(source)],
        )
        for f in files
    ]
    scores = compare(comparisons, (1280, 720), subsample=3)
    points = [
        [w, h, crf, f.stat().st_size * 8 / 1000 / seconds, s.mean]
        for ((w, h), crf), f, s in zip(outs, files, scores, strict=True)
    ]
    return {"cpu": cpu, "wall": wall, "points": points}


def report(results: dict) -> None:
    for title in FPS:
        base = results.get(f"{title}/medium")
        if not base:
            continue
        for name in CONFIGS:
            r = results.get(f"{title}/{name}")
            if not r:
                continue
            per = {}
            for w, h in SIZES:
                a = [(p[3], p[4]) for p in base["points"] if p[0] == w]
                b = [(p[3], p[4]) for p in r["points"] if p[0] == w]
                per[h] = round(bd_rate(a, b) or 0, 1)
            hull = bd_rate(
                [(p[3], p[4]) for p in base["points"]], [(p[3], p[4]) for p in r["points"]]
            )
            print(
                f"{title} {name}: CPU {r['cpu']:.1f} s ({r['cpu'] / base['cpu']:.2f}x), "
                f"BD-rate over all sizes {hull or 0:+.1f} %, per size {per}"
            )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--configs", default=",".join(CONFIGS))
    parser.add_argument("--titles", default="bbb,noisy")
    parser.add_argument("--fresh", action="store_true", help="forget earlier results")
    args = parser.parse_args()
    results = {} if args.fresh or not RESULTS.is_file() else json.loads(RESULTS.read_text())
    wanted = args.titles.split(",")
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        titles = make_titles(work, args.seconds, wanted)
        for title in wanted:
            for name in args.configs.split(","):
                key = f"{title}/{name}"
                if key in results:
                    continue
                results[key] = sweep(title, titles[title], name, work, args.seconds)
                RESULTS.parent.mkdir(exist_ok=True)
                RESULTS.write_text(json.dumps(results, indent=1) + "\n")
                print(key, f"CPU {results[key]['cpu']:.1f} s", flush=True)
    report(results)


if __name__ == "__main__":
    main()
