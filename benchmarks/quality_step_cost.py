"""What the quality step costs, and how far its sampled VMAF is from scoring every frame.

    python benchmarks/quality_step_cost.py [--seconds 30] [--rounds 3] [--skip-pipeline]
        [--skip-meter] [--before-tree SRC] [--out FILE]

On a 30 s 1280x720 title (Big Buck Bunny looped, as `pipeline_overhead.py`) encoded with the
default ladder: (1) every frame of the whole title is scored once, the reference; (2) each
sampling below scores the same package, the samplings alternating, `--rounds` times, wall
and CPU time (of FFmpeg) and per-rendition VMAF against the reference; (3) `primevod process`
with the quality step off and with the settings below, alternating, `--rounds` times (with
`--before-tree`, also run from that `src` folder, e.g. an export of the previous commit, to
compare two versions of the step in the same run). Medians are reported: the machine's
speed drifts between identical runs.
Results: benchmarks/results/quality_step_cost.json.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from onepass_vs_separate import make_source  # type: ignore[import-not-found]

from primevod.adapters.media.ffmpeg_command import EncodeOptions
from primevod.adapters.media.pyav_probe import probe_file
from primevod.adapters.media.quality_meter import measure_package
from primevod.adapters.media.transcoder import MediaEngine
from primevod.core.outputs import PackageResult
from primevod.core.policies import get_policy
from primevod.core.probe import ProbeResult
from primevod.settings import Settings

RESULTS = Path(__file__).parent / "results"
TARGET_VMAF = Settings().quality_target_vmaf


@dataclass(frozen=True)
class Sampling:
    """One way of scoring: spans x seconds (None: whole segments), every n-th frame."""

    name: str
    spans: int
    span_seconds: float | None
    subsample: int
    size: tuple[int, int] | None = None
    threads: int = 0
    near_keyframes: bool = True
    env: dict[str, str] = field(default_factory=dict)


SAMPLINGS = [
    Sampling("default: 4 spans x 1 s, every 5th, after source keyframes", 4, 1.0, 5),
    Sampling("4 spans x 1 s, every 5th, source keyframes ignored", 4, 1.0, 5, near_keyframes=False),
    Sampling("4 spans x 1 s, every 6th", 4, 1.0, 6),
    Sampling("3 spans x 1 s, every 5th", 3, 1.0, 5),
]

# the step in `primevod process`: off, the default settings (and `--before-tree`'s)
PIPELINE: dict[str, dict[str, str]] = {
    "off": {"PRIMEVOD_QUALITY_CHECK": "off"},
    "default": {},
}


def child_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def score(
    package: PackageResult, source: Path, probe: ProbeResult, s: Sampling | None
) -> tuple[list[float], float, float]:
    """Per-rendition VMAF, wall and CPU seconds; None: every frame of the whole title."""
    cpu, wall = child_cpu(), time.monotonic()
    if s is None:
        rungs = measure_package(package, source, probe, segments=None, subsample=1)
    else:
        rungs = measure_package(
            package,
            source,
            probe,
            segments=s.spans,
            span_seconds=s.span_seconds,
            subsample=s.subsample,
            size=s.size,
            threads=s.threads,
            near_keyframes=s.near_keyframes,
        )
    return [r.vmaf or 0.0 for r in rungs], time.monotonic() - wall, child_cpu() - cpu


def meter_rounds(package: PackageResult, source: Path, rounds: int) -> dict[str, Any]:
    probe = probe_file(source)
    full, full_wall, full_cpu = score(package, source, probe, None)
    runs: dict[str, list[tuple[list[float], float, float]]] = {s.name: [] for s in SAMPLINGS}
    for _ in range(rounds):
        for s in SAMPLINGS:
            runs[s.name].append(score(package, source, probe, s))
    samplings = {}
    for s in SAMPLINGS:
        vmaf = runs[s.name][0][0]
        errors = [abs(a - b) for a, b in zip(vmaf, full, strict=True)]
        samplings[s.name] = {
            "vmaf": [round(v, 3) for v in vmaf],
            "mean_abs_error": round(statistics.mean(errors), 3),
            "max_abs_error": round(max(errors), 3),
            "top_rung_verdict_same": (vmaf[-1] >= TARGET_VMAF) == (full[-1] >= TARGET_VMAF),
            "wall_s": [round(r[1], 2) for r in runs[s.name]],
            "cpu_s": [round(r[2], 2) for r in runs[s.name]],
            "wall_median_s": round(statistics.median(r[1] for r in runs[s.name]), 2),
            "cpu_median_s": round(statistics.median(r[2] for r in runs[s.name]), 2),
        }
    return {
        "full_title_every_frame": {
            "vmaf": [round(v, 3) for v in full],
            "wall_s": round(full_wall, 2),
            "cpu_s": round(full_cpu, 2),
        },
        "samplings": samplings,
    }


def process(source: Path, home: Path, env: dict[str, str]) -> tuple[float, float | None]:
    """`primevod process` wall time and the quality step's own seconds."""
    run_env = {**os.environ, "PRIMEVOD_HOME": str(home), **env}
    run_env.pop("PYTHONDONTWRITEBYTECODE", None)
    started = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-m", "primevod.cli.main", "process", str(source), "--json"],
        env=run_env,
        capture_output=True,
        text=True,
        check=True,
    )
    wall = time.monotonic() - started
    result = json.loads(done.stdout)
    assert result["status"] == "ready", result
    shown = subprocess.run(
        [sys.executable, "-m", "primevod.cli.main", "quality", result["asset_id"], "--json"],
        env=run_env,
        capture_output=True,
        text=True,
        check=False,
    )
    step = json.loads(shown.stdout).get("seconds") if shown.returncode == 0 else None
    return wall, step


def pipeline_rounds(
    source: Path, work: Path, rounds: int, before: Path | None = None
) -> dict[str, Any]:
    runs = dict(PIPELINE)
    if before is not None:
        runs["before (--before-tree)"] = {"PYTHONPATH": str(before.absolute())}
    for n, env in enumerate(runs.values()):
        process(source, work / f"warm-up-{n}", env)  # bytecode, page cache
    walls: dict[str, list[float]] = {name: [] for name in runs}
    steps: dict[str, list[float]] = {name: [] for name in runs}
    for i in range(rounds):
        for name, env in runs.items():
            wall, step = process(source, work / f"p{i}-{len(walls[name])}-{hash(name)}", env)
            walls[name].append(wall)
            if step is not None:
                steps[name].append(step)
    off = walls["off"]
    out: dict[str, Any] = {}
    for name in runs:
        entry: dict[str, Any] = {
            "wall_s": [round(w, 2) for w in walls[name]],
            "wall_median_s": round(statistics.median(walls[name]), 2),
        }
        if name != "off":
            ratios = [w / o for w, o in zip(walls[name], off, strict=True)]
            entry["adds_median_of_rounds"] = round(statistics.median(ratios) - 1, 3)
            entry["adds_median_over_median"] = round(
                statistics.median(walls[name]) / statistics.median(off) - 1, 3
            )
            entry["step_s"] = steps[name]
        out[name] = entry
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--skip-pipeline", action="store_true")
    parser.add_argument("--skip-meter", action="store_true", help="only the `process` rounds")
    parser.add_argument("--out", type=Path, default=RESULTS / "quality_step_cost.json")
    parser.add_argument("--before-tree", type=Path, help="a `src` folder of another version")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        source = work / "src720.mp4"
        name = make_source(source, args.seconds, 1280, 720)
        engine = MediaEngine(EncodeOptions(preset=Settings().preset, thumbnails=False))
        package = engine.transcode(source, work / "package", get_policy("default"))
        report: dict[str, Any] = {
            "source": f"{name}, {args.seconds:g} s, 1280x720",
            "renditions": [r.name for r in package.renditions if r.kind == "video"],
            "cpus": os.cpu_count(),
            "process_codecs": Settings().codecs,  # the families `primevod process` encodes
            "load_average_at_start": os.getloadavg()[0],
            "meter": None if args.skip_meter else meter_rounds(package, source, args.rounds),
        }
        save(report, args.out)  # the meter's figures, should the pipeline runs fail
        if not args.skip_pipeline:
            report["primevod_process"] = pipeline_rounds(
                source, work, args.rounds, args.before_tree
            )
        report["load_average_at_end"] = os.getloadavg()[0]
    save(report, args.out)
    print(json.dumps(report, indent=2))


def save(report: dict[str, Any], out: Path) -> None:
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=2) + "\n")


if __name__ == "__main__":
    main()
