"""How close the local cost estimate (core/local_cost.py) comes to the CPU-seconds and bytes an
encode really takes on this machine.

Each title (the three 720p titles of ladder_bdrate.py, and a 1080p cut of the first) is
encoded with each ladder by the real pipeline (one FFmpeg run, CMAF package, thumbnails,
validation); the encode's CPU-seconds are read from the kernel's accounting of the FFmpeg
child (what the pipeline records per job). Then every job is estimated as the pipeline would
before its encode, calibrated by the records of the *other* titles only (leave one title
out: a new title, a machine with history), and the error is reported; plus the number the
records give for core/local_cost.DEFAULT_CPU_PER_MEGAPIXEL.

Sample methods are compared in the same run (`--methods`): every job is sampled by each,
in alternating order, before its encode, so a drift of the machine's load weighs on all of
them alike. `keyframes` is the pipeline's; `anywhere` the method before it (METHODS).

Run by hand (about 15 minutes on 2 idle cores with the three methods):

    python benchmarks/cost_local.py [--seconds 20] [--preset veryfast]
        [--ladders default,apple,aws-vod] [--titles bbb,noisy,slides,bbb1080] [--codecs h264,av1]
        [--methods keyframes,keyframes-1s,anywhere] [--out FILE]

Writes benchmarks/results/cost_local.json (or --out) and prints the table for docs/cost.md.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from primevod.adapters.media.cost_sample import measure_sample
from primevod.adapters.media.ffmpeg_binary import ffmpeg_exe, ffmpeg_version
from primevod.adapters.media.ffmpeg_command import EncodeOptions
from primevod.adapters.media.pyav_probe import probe_file
from primevod.adapters.media.transcoder import MediaEngine
from primevod.core.ladder import with_codecs
from primevod.core.local_cost import (
    SAMPLE_MIN_SECONDS,
    EncodeRecord,
    LocalRates,
    Sample,
    bytes_at_caps,
    calibrate,
    estimate_local,
    projected_package_bytes,
    sample_spans,
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


# the sample methods compared in one run, each job sampled by every one in turn (the order
# rotating from job to job): `keyframes` is the pipeline's (single-threaded runs from the
# source's keyframes, excerpts of at least 1.5 s); `keyframes-1s` the same with excerpts of
# at least 1 s; `anywhere` the method before (1 s excerpts where sample_spans puts them,
# threads as FFmpeg chooses)
METHODS: dict[str, dict[str, Any]] = {
    "keyframes": {},
    "keyframes-1s": {"min_seconds": 1.0},
    "anywhere": {"at_keyframes": False, "threads": None, "min_seconds": 1.0},
}


def sample_with(
    method: str, engine: MediaEngine, source: Path, probe: Any, plan: Any, work: Path
) -> tuple[Sample | None, float]:
    """One method's sample of the title and the CPU-seconds it cost."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    if method == "keyframes":
        sampled = sample(engine, source, probe, plan, work)
    else:
        options = dict(METHODS[method])
        spans = sample_spans(plan.duration, options.pop("min_seconds", SAMPLE_MIN_SECONDS))
        sampled = measure_sample(source, probe, plan, spans, work, engine.options, **options)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return sampled, (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)


def encode(
    source: Path, ladder_name: str, preset: str, out: Path, order: list[str], codecs: str
) -> dict[str, Any]:
    """Sample the title by each method (in `order`), then encode it whole."""
    probe = probe_file(source)
    policy = with_codecs(get_policy(ladder_name), codecs)
    engine = MediaEngine(EncodeOptions(preset=preset))
    plan = engine.plan(source, probe, policy)
    duration = probe.duration or 0.0
    samples: dict[str, dict[str, Any]] = {}
    for method in order:
        sampled, cost = sample_with(method, engine, source, probe, plan, out.parent / "sample")
        samples[method] = {
            "sample": vars(sampled) if sampled else None,
            "sampled": sampled,
            "projected_cpu_seconds": sampled.cpu_seconds if sampled else 0.0,
            "projected_bytes": projected_package_bytes(plan.ladder, duration, sampled)
            if sampled
            else 0,
            "sample_cpu_seconds": round(cost, 3),
        }
    result = engine.transcode(source, out, policy, probe=probe, overwrite=True)
    return {
        "duration": duration,
        "rungs": len(plan.ladder.rungs),
        "work_megapixels": work_megapixels(plan.ladder, duration, preset),
        "bytes_at_caps": bytes_at_caps(plan.ladder, duration),
        "cpu_seconds": result.encode_cpu_seconds,
        "wall_seconds": result.encode_seconds,
        "package_bytes": result.total_bytes,
        "ladder": plan.ladder,
        "methods": samples,
    }


def leave_one_out(jobs: list[dict[str, Any]], preset: str, method: str) -> None:
    """Each job estimated from `method`'s sample with the calibration of the other titles'
    jobs (their records as the pipeline keeps them, with that method's projections)."""
    for job in jobs:
        mine = job["methods"][method]
        others = [
            EncodeRecord(
                preset,
                o["work_megapixels"],
                o["cpu_seconds"],
                o["package_bytes"],
                o["bytes_at_caps"],
                o["methods"][method]["projected_cpu_seconds"],
                o["methods"][method]["projected_bytes"],
            )
            for o in jobs
            if o["title"] != job["title"]
        ]
        calibration = calibrate(others, preset)
        mine["calibration"] = vars(calibration)
        estimate = estimate_local(
            job["ladder"], job["duration"], preset, calibration, RATES, mine["sampled"]
        )
        mine["estimate_cpu_seconds"] = round(estimate.cpu_seconds, 2)
        mine["cpu_error"] = round(estimate.cpu_seconds / job["cpu_seconds"] - 1, 4)
        mine["estimate_bytes"] = estimate.package_bytes
        mine["bytes_error"] = round(estimate.package_bytes / job["package_bytes"] - 1, 4)
        mine["sample_overhead"] = round(mine["sample_cpu_seconds"] / job["cpu_seconds"], 4)


def summary(jobs: list[dict[str, Any]], method: str) -> dict[str, float]:
    mine = [j["methods"][method] for j in jobs]
    return {
        "cpu_error_abs_median": round(statistics.median(abs(m["cpu_error"]) for m in mine), 4),
        "cpu_error_abs_max": round(max(abs(m["cpu_error"]) for m in mine), 4),
        "within_10_percent": sum(abs(m["cpu_error"]) <= 0.1 for m in mine),
        "sample_overhead_median": round(statistics.median(m["sample_overhead"] for m in mine), 4),
        "bytes_error_abs_median": round(statistics.median(abs(m["bytes_error"]) for m in mine), 4),
    }


def print_table(jobs: list[dict[str, Any]], method: str, result: dict[str, float]) -> None:
    print(f"\n{method}:")
    print("| title | ladder | rungs | CPU s | estimate | error | MB | estimate | error |")
    print("|---|---|---|---|---|---|---|---|---|")
    for j in jobs:
        m = j["methods"][method]
        print(
            f"| {j['title']} | {j['ladder_name']} | {j['rungs']} | {j['cpu_seconds']:.1f} | "
            f"{m['estimate_cpu_seconds']:.1f} | {m['cpu_error']:+.1%} | "
            f"{j['package_bytes'] / 1e6:.1f} | {m['estimate_bytes'] / 1e6:.1f} | "
            f"{m['bytes_error']:+.1%} |"
        )
    print(
        f"|error| median {result['cpu_error_abs_median']:.1%}, "
        f"max {result['cpu_error_abs_max']:.1%}, {result['within_10_percent']} of {len(jobs)} "
        f"within 10 %; bytes |error| median {result['bytes_error_abs_median']:.1%}; the "
        f"sample's CPU: {result['sample_overhead_median']:.1%} of the encode's (median)"
    )


def strip(job: dict[str, Any]) -> dict[str, Any]:
    """A job as JSON: without the ladder and the Sample objects."""
    methods = {
        name: {k: v for k, v in m.items() if k != "sampled"} for name, m in job["methods"].items()
    }
    return {**{k: v for k, v in job.items() if k != "ladder"}, "methods": methods}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--preset", default="veryfast")
    parser.add_argument("--ladders", default="default,apple,aws-vod")
    parser.add_argument("--titles", default="bbb,noisy,slides,bbb1080")
    parser.add_argument("--codecs", default="h264,av1", help="codec families (product default)")
    parser.add_argument("--out", type=Path, default=RESULTS / "cost_local.json")
    parser.add_argument(
        "--methods", default=",".join(METHODS), help="sample methods to compare (first: reported)"
    )
    args = parser.parse_args()
    titles = args.titles.split(",")
    methods = args.methods.split(",")
    jobs: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        sources = make_titles(work, args.seconds, [t for t in titles if t != "bbb1080"] or ["bbb"])
        if "bbb1080" in titles:
            sources["bbb1080"] = scale_1080(sources["bbb"], work)
        for title in titles:
            for ladder in args.ladders.split(","):
                # rotate which method samples first: the machine's load drifts
                turn = len(jobs) % len(methods)
                order = methods[turn:] + methods[:turn]
                print(f"[{title}] {ladder} ...", flush=True)
                out = work / f"{title}-{ladder}"
                job = encode(sources[title], ladder, args.preset, out, order, args.codecs)
                jobs.append({"title": title, "ladder_name": ladder, **job})
    results = {}
    for method in methods:
        leave_one_out(jobs, args.preset, method)
        results[method] = summary(jobs, method)
    ratios = [j["cpu_seconds"] / j["work_megapixels"] for j in jobs]
    report = {
        "machine": {"platform": platform.platform(), "cpus": os.cpu_count()},
        "ffmpeg": ffmpeg_version(),
        "preset": args.preset,
        "seconds": args.seconds,
        "codecs": args.codecs,
        "cpu_per_megapixel_median": round(statistics.median(ratios), 6),
        **results[methods[0]],
        "methods": results,
        "jobs": [strip(j) for j in jobs],
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2) + "\n")
    for method in methods:
        print_table(jobs, method, results[method])
    print(f"CPU-seconds per megapixel (median): {report['cpu_per_megapixel_median']}")


if __name__ == "__main__":
    main()
