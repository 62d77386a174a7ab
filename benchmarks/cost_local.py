"""How close the local cost estimate (core/local_cost.py) comes to the CPU-seconds and bytes an
encode really takes on this machine.

Each title (the three 720p titles of ladder_bdrate.py, and a 1080p cut of the first) is
encoded with each ladder by the real pipeline (one FFmpeg run, CMAF package, thumbnails,
validation); the encode's CPU-seconds are read from the kernel's accounting of the FFmpeg
child (what the pipeline records per job). Then every job is estimated as the pipeline would
before its encode, calibrated by the records of the *other* titles only (leave one title
out: a new title, a machine with history), and the error is reported; plus the number the
records give for core/local_cost.DEFAULT_CPU_PER_MEGAPIXEL.

Run by hand (about 10 minutes on 2 cores):

    python benchmarks/cost_local.py [--seconds 20] [--preset veryfast]
        [--ladders default,apple,aws-vod] [--titles bbb,noisy,slides,bbb1080] [--out FILE]

Writes benchmarks/results/cost_local.json (or --out) and prints the table for docs/cost.md.
"""

from __future__ import annotations

import argparse
import json
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from primevod.adapters.media.ffmpeg_binary import ffmpeg_exe, ffmpeg_version
from primevod.adapters.media.ffmpeg_command import EncodeOptions
from primevod.adapters.media.pyav_probe import probe_file
from primevod.adapters.media.transcoder import MediaEngine
from primevod.core.local_cost import (
    EncodeRecord,
    LocalRates,
    bytes_at_caps,
    calibrate,
    estimate_local,
    projected_package_bytes,
    work_megapixels,
)
from primevod.core.policies import get_policy
from primevod.pipeline.costing import sample

sys.path.insert(0, str(Path(__file__).parent))
from ladder_bdrate import make_titles

RESULTS = Path(__file__).parent / "results"
RATES = LocalRates(cpu_hour_usd=0.0446, storage_gb_month_usd=0.023)


def scale_1080(source: Path, work: Path) -> Path:
    out = work / "bbb1080.mp4"
    enc = ["-c:v", "libx264", "-preset", "veryfast", "-crf", "12", "-pix_fmt", "yuv420p"]
    cmd = [ffmpeg_exe(), "-v", "error", "-y", "-i", str(source), "-vf", "scale=1920:1080"]
    subprocess.run([*cmd, *enc, "-c:a", "copy", str(out)], check=True)
    return out


def encode(source: Path, ladder_name: str, preset: str, out: Path) -> dict[str, Any]:
    """Sample the title as the pipeline's budget step does, then encode it whole."""
    probe = probe_file(source)
    policy = get_policy(ladder_name)
    engine = MediaEngine(EncodeOptions(preset=preset))
    plan = engine.plan(source, probe, policy)
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    sampled = sample(engine, source, probe, plan, out.parent / f"{out.name}-sample")
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    sample_cpu = (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)
    result = engine.transcode(source, out, policy, probe=probe, overwrite=True)
    duration = probe.duration or 0.0
    return {
        "duration": duration,
        "rungs": len(plan.ladder.rungs),
        "work_megapixels": work_megapixels(plan.ladder, duration, preset),
        "bytes_at_caps": bytes_at_caps(plan.ladder, duration),
        "sample": vars(sampled) if sampled else None,
        "projected_cpu_seconds": sampled.cpu_seconds if sampled else 0.0,
        "projected_bytes": projected_package_bytes(plan.ladder, duration, sampled)
        if sampled
        else 0,
        "cpu_seconds": result.encode_cpu_seconds,
        "sample_cpu_seconds": round(sample_cpu, 3),
        "wall_seconds": result.encode_seconds,
        "package_bytes": result.total_bytes,
        "ladder": plan.ladder,
        "sampled": sampled,
    }


def leave_one_out(jobs: list[dict[str, Any]], preset: str) -> None:
    """Each job estimated with the calibration of the other titles' jobs."""
    for job in jobs:
        others = [
            EncodeRecord(
                preset,
                o["work_megapixels"],
                o["cpu_seconds"],
                o["package_bytes"],
                o["bytes_at_caps"],
                o["projected_cpu_seconds"],
                o["projected_bytes"],
            )
            for o in jobs
            if o["title"] != job["title"]
        ]
        calibration = calibrate(others, preset)
        job["calibration"] = vars(calibration)
        estimate = estimate_local(
            job["ladder"], job["duration"], preset, calibration, RATES, job["sampled"]
        )
        job["estimate_cpu_seconds"] = round(estimate.cpu_seconds, 2)
        job["cpu_error"] = round(estimate.cpu_seconds / job["cpu_seconds"] - 1, 4)
        job["estimate_bytes"] = estimate.package_bytes
        job["bytes_error"] = round(estimate.package_bytes / job["package_bytes"] - 1, 4)
        job["sample_overhead"] = round(job["sample_cpu_seconds"] / job["cpu_seconds"], 4)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--preset", default="veryfast")
    parser.add_argument("--ladders", default="default,apple,aws-vod")
    parser.add_argument("--titles", default="bbb,noisy,slides,bbb1080")
    parser.add_argument("--out", type=Path, default=RESULTS / "cost_local.json")
    args = parser.parse_args()
    titles = args.titles.split(",")
    jobs: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        sources = make_titles(work, args.seconds, [t for t in titles if t != "bbb1080"] or ["bbb"])
        if "bbb1080" in titles:
            sources["bbb1080"] = scale_1080(sources["bbb"], work)
        for title in titles:
            for ladder in args.ladders.split(","):
                print(f"[{title}] {ladder} ...", flush=True)
                job = encode(sources[title], ladder, args.preset, work / f"{title}-{ladder}")
                jobs.append({"title": title, "ladder_name": ladder, **job})
    leave_one_out(jobs, args.preset)
    ratios = [j["cpu_seconds"] / j["work_megapixels"] for j in jobs]
    report = {
        "machine": {"platform": platform.platform(), "cpus": __import__("os").cpu_count()},
        "ffmpeg": ffmpeg_version(),
        "preset": args.preset,
        "seconds": args.seconds,
        "cpu_per_megapixel_median": round(statistics.median(ratios), 6),
        "cpu_error_abs_median": round(statistics.median(abs(j["cpu_error"]) for j in jobs), 4),
        "cpu_error_abs_max": round(max(abs(j["cpu_error"]) for j in jobs), 4),
        "sample_overhead_median": round(statistics.median(j["sample_overhead"] for j in jobs), 4),
        "bytes_error_abs_median": round(statistics.median(abs(j["bytes_error"]) for j in jobs), 4),
        "jobs": [{k: v for k, v in j.items() if k not in ("ladder", "sampled")} for j in jobs],
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2) + "\n")
    print("| title | ladder | rungs | CPU s | estimate | error | MB | estimate | error |")
    print("|---|---|---|---|---|---|---|---|---|")
    for j in jobs:
        print(
            f"| {j['title']} | {j['ladder_name']} | {j['rungs']} | {j['cpu_seconds']:.1f} | "
            f"{j['estimate_cpu_seconds']:.1f} | {j['cpu_error']:+.1%} | "
            f"{j['package_bytes'] / 1e6:.1f} | {j['estimate_bytes'] / 1e6:.1f} | "
            f"{j['bytes_error']:+.1%} |"
        )
    print(
        f"CPU-seconds per megapixel (median): {report['cpu_per_megapixel_median']}; "
        f"|error| median {report['cpu_error_abs_median']:.1%}, "
        f"max {report['cpu_error_abs_max']:.1%}; bytes |error| median "
        f"{report['bytes_error_abs_median']:.1%}; the sample's CPU: "
        f"{report['sample_overhead_median']:.1%} of the encode's (median)"
    )


if __name__ == "__main__":
    main()
