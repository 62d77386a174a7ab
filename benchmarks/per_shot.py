"""Per-shot CRF allocation (the "dynamic optimizer" idea) against one uniform CRF, on one
rung of each title.

A title is cut into shots at the scene cuts the complexity analysis' scene scan finds
(`complexity_scan.scan` over the whole title). Baseline: the rung encoded at each of a few
uniform CRFs (x264, fixed 2 s GOP without scene-cut keyframes, as the ladder's rungs; plain
CRF without a cap, so that a rate cap does not blur the allocation), every encode scored with
VMAF per frame against the source. The same encodes, cut at the shot boundaries (frame sizes
from the container, VMAF per scored frame), give each shot its own rate-quality curve. For a
Lagrange multiplier lambda every shot takes the CRF (integer, interpolated between the
measured ones) that maximises VMAF_shot - lambda * kbps_shot: the frame-weighted mean VMAF
for the total bits is then the best this set of curves allows, every shot at the same slope
of its curve. A lambda is chosen for each uniform point's rate, and the title is encoded once
with the chosen CRF per shot as x264 zones (`-x264-params zones=a,b,crf=N/...`) and scored as
a whole. BD-rate of per-shot against uniform over the VMAF range both cover (core/bd_rate.py):
as predicted from the shot curves, and as measured on the zoned encodes.

Titles: those of `ladder_bdrate.py` and `montage`, a cut every `seconds/5` between pieces of
the five (the case per-shot allocation is made for: shots that differ). A title in which the
scan finds no cut is one shot, where per-shot allocation is the uniform CRF; it is reported
as such, not encoded.

Run by hand (about 15-30 minutes on 2 cores):

    python benchmarks/per_shot.py [--seconds 20] [--titles bbb,noisy,slides,bikes,pan,montage]
        [--heights 720] [--crfs 18,21,24,27,30] [--preset medium] [--subsample 2]
        [--work DIR] [--out FILE]

Writes benchmarks/results/per_shot.json (or --out) and prints the table for docs/quality.md.
"""

from __future__ import annotations

import argparse
import itertools
import json
import math
import os
import platform
import shlex
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Any

import av
from ladder_bdrate import make_titles  # type: ignore[import-not-found]

from primevod.adapters.media.complexity_scan import scan
from primevod.adapters.media.ffmpeg_binary import ffmpeg_exe, ffmpeg_version
from primevod.adapters.media.ladder_compare import _child_cpu
from primevod.adapters.media.pyav_probe import probe_file
from primevod.adapters.media.quality_meter import Comparison, compare, reference_size
from primevod.core.bd_rate import bd_rate
from primevod.core.probe import ProbeResult

RESULTS = Path(__file__).parent / "results"
LADDER_TITLES = ("bbb", "noisy", "slides", "bikes", "pan")
GOP_SECONDS = 2
# lambdas (VMAF points per kb/s) swept to find one allocation per uniform point's rate
LAMBDAS = [10 ** (-6 + k * 0.02) for k in range(301)]

Shot = tuple[int, int]  # first frame, end frame (exclusive)
Curve = dict[int, tuple[float, float]]  # CRF -> (kb/s, VMAF) of one shot


@dataclass
class Encode:
    """One encode of a rung: the CRF of every shot, its cost and what it measured."""

    crfs: list[int]
    path: Path
    wall: float = 0.0
    cpu: float = 0.0
    command: list[str] = field(default_factory=list)
    frame_bytes: list[int] = field(default_factory=list)
    vmaf: list[float] = field(default_factory=list)  # every `subsample`-th frame


@dataclass(frozen=True)
class Rung:
    source: Path
    size: tuple[int, int]
    fps: Fraction
    frames: int
    shots: list[Shot]
    preset: str
    subsample: int
    work: Path


def montage(work: Path, titles: dict[str, Path], seconds: float) -> Path:
    """`seconds` of the ladder titles, an equal piece of each in turn at 1280x720 25 fps:
    a cut between unlike shots at every join."""
    piece = seconds / len(titles)
    args: list[str] = []
    graph = []
    for i, path in enumerate(titles.values()):
        args += ["-ss", f"{i * piece:g}", "-t", f"{piece:g}", "-i", str(path)]
        graph.append(
            f"[{i}:v]scale=1280:720:force_original_aspect_ratio=decrease,"
            f"pad=1280:720:-1:-1,setsar=1,fps=25,format=yuv420p[v{i}]"
        )
    joined = "".join(f"[v{i}]" for i in range(len(titles)))
    graph.append(f"{joined}concat=n={len(titles)}:v=1:a=0[v]")
    path = work / "montage.mp4"
    enc = ["-c:v", "libx264", "-preset", "veryfast", "-crf", "12", "-pix_fmt", "yuv420p"]
    cmd = [ffmpeg_exe(), "-v", "error", "-y", *args, "-filter_complex", ";".join(graph)]
    subprocess.run([*cmd, "-map", "[v]", *enc, str(path)], check=True)
    return path


def shots_of(source: Path, probe: ProbeResult, fps: Fraction) -> tuple[list[Shot], float]:
    """The title's shots, from the scene cuts of the analysis' scene scan over the whole
    title, and the scan's wall seconds."""
    t0 = time.monotonic()
    activity, cuts, _ = scan(source, probe, float(fps))
    frames = len(activity)
    bounds = [0, *sorted({round(c * fps) for c in cuts if 0 < round(c * fps) < frames}), frames]
    return [(a, b) for a, b in itertools.pairwise(bounds)], time.monotonic() - t0


def x264_zones(shots: list[Shot], crfs: list[int]) -> str:
    """x264 zones (inclusive frame ranges) giving every shot its own CRF."""
    return "/".join(f"{a},{b - 1},crf={c}" for (a, b), c in zip(shots, crfs, strict=True))


def encode_command(rung: Rung, crfs: list[int], out: Path) -> list[str]:
    gop = str(round(rung.fps * GOP_SECONDS))
    width, height = rung.size
    cmd = [ffmpeg_exe(), "-hide_banner", "-nostdin", "-v", "error", "-y", "-i", str(rung.source)]
    cmd += ["-map", "0:v:0", "-vf", f"scale={width}:{height}:flags=bicubic", "-an"]
    cmd += ["-c:v", "libx264", "-preset", rung.preset, "-profile:v", "high", "-g", gop]
    cmd += ["-keyint_min", gop, "-sc_threshold", "0", "-crf", str(crfs[0])]
    if len(set(crfs)) > 1:
        cmd += ["-x264-params", f"zones={x264_zones(rung.shots, crfs)}"]
    return [*cmd, str(out)]


def run_encode(rung: Rung, crfs: list[int], name: str) -> Encode:
    """One FFmpeg run, timed in wall and child CPU seconds, and its frame sizes."""
    out = rung.work / f"{name}.mp4"
    cmd = encode_command(rung, crfs, out)
    cpu0, wall0 = _child_cpu(), time.monotonic()
    subprocess.run(cmd, check=True)
    encode = Encode(crfs, out, time.monotonic() - wall0, _child_cpu() - cpu0, cmd)
    encode.frame_bytes = frame_sizes(out, rung.fps, rung.frames)
    return encode


def frame_sizes(path: Path, fps: Fraction, frames: int) -> list[int]:
    """Bytes of every frame in display order (packets placed by their timestamps)."""
    sizes = [0] * frames
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        tb = Fraction(stream.time_base or Fraction(1, 90000))
        packets = [(p.pts, p.size) for p in container.demux(stream) if p.pts is not None]
    first = min(pts for pts, _ in packets)
    for pts, size in packets:
        index = round((pts - first) * tb * fps)
        if 0 <= index < frames:
            sizes[index] += size
    return sizes


def score(rung: Rung, encodes: list[Encode]) -> float:
    """VMAF of every `subsample`-th frame of each encode, all in one FFmpeg run; its wall
    seconds."""
    t0 = time.monotonic()
    comparisons = [Comparison(["-i", str(e.path)], ["-i", str(rung.source)]) for e in encodes]
    scores = compare(comparisons, reference_size(*rung_source_size(rung)), subsample=rung.subsample)
    for encode, result in zip(encodes, scores, strict=True):
        if result.metric != "vmaf":
            raise SystemExit("this FFmpeg has no libvmaf")
        encode.vmaf = result.per_frame
    return time.monotonic() - t0


def rung_source_size(rung: Rung) -> tuple[int, int]:
    with av.open(str(rung.source)) as container:
        stream = container.streams.video[0]
        return stream.codec_context.width, stream.codec_context.height


def span_point(rung: Rung, encode: Encode, first: int, end: int) -> tuple[float, float]:
    """(kb/s, mean VMAF) of frames [first, end) of an encode."""
    kbps = sum(encode.frame_bytes[first:end]) * 8 / float((end - first) / rung.fps) / 1000
    step = rung.subsample
    scored = encode.vmaf[math.ceil(first / step) : math.ceil(end / step)]
    return kbps, sum(scored) / max(1, len(scored))


def shot_curves(rung: Rung, uniform: list[Encode]) -> list[Curve]:
    """Each shot's rate-quality at every integer CRF between the measured ones: log-rate
    and VMAF interpolated linearly in CRF."""
    curves = []
    for first, end in rung.shots:
        measured = sorted((e.crfs[0], span_point(rung, e, first, end)) for e in uniform)
        curve: Curve = {}
        for (c0, (r0, q0)), (c1, (r1, q1)) in itertools.pairwise(measured):
            for c in range(c0, c1 + 1):
                t = (c - c0) / (c1 - c0)
                curve[c] = (math.exp((1 - t) * math.log(r0) + t * math.log(r1)), q0 + t * (q1 - q0))
        curves.append(curve)
    return curves


def allocate(curves: list[Curve], lam: float) -> list[int]:
    """Every shot at the CRF where its curve's slope meets lambda: the bits of the title
    and its frame-weighted VMAF are sums over shots, so each shot's choice is its own."""
    return [max(curve, key=lambda c, k=curve: k[c][1] - lam * k[c][0]) for curve in curves]


def predict(rung: Rung, curves: list[Curve], crfs: list[int]) -> tuple[float, float]:
    """(kb/s, VMAF) of the title from its shots' curves."""
    frames = [b - a for a, b in rung.shots]
    total = sum(frames)
    kbps = sum(n * curve[c][0] for n, curve, c in zip(frames, curves, crfs, strict=True))
    vmaf = sum(n * curve[c][1] for n, curve, c in zip(frames, curves, crfs, strict=True))
    return kbps / total, vmaf / total


def plan(rung: Rung, curves: list[Curve], targets: list[float]) -> list[list[int]]:
    """For each target rate, the allocation (of the lambda sweep) whose predicted rate is
    nearest; duplicates dropped."""
    swept = [allocate(curves, lam) for lam in LAMBDAS]
    plans: list[list[int]] = []
    for target in targets:
        best = min(swept, key=lambda a: abs(math.log(predict(rung, curves, a)[0] / target)))
        if best not in plans:
            plans.append(best)
    return plans


def title_point(rung: Rung, encode: Encode) -> tuple[float, float]:
    return span_point(rung, encode, 0, rung.frames)


def run_rung(rung: Rung, crf_grid: list[int], label: str) -> dict[str, Any]:
    print(f"[{label}] {len(crf_grid)} uniform encodes ...", flush=True)
    uniform = [run_encode(rung, [c] * len(rung.shots), f"{label}-crf{c}") for c in crf_grid]
    uniform_score_wall = score(rung, uniform)
    curves = shot_curves(rung, uniform)
    plans = plan(rung, curves, [title_point(rung, e)[0] for e in uniform])
    # an allocation of one CRF for every shot is that uniform encode, not encoded again
    by_crf = {e.crfs[0]: e for e in uniform}
    plans_zoned = [p for p in plans if len(set(p)) > 1 or p[0] not in by_crf]
    print(f"[{label}] {len(plans_zoned)} per-shot encodes ...", flush=True)
    zoned = [run_encode(rung, crfs, f"{label}-shots{i}") for i, crfs in enumerate(plans_zoned)]
    if zoned:
        score(rung, zoned)
    per_shot = sorted(
        [*zoned, *(by_crf[p[0]] for p in plans if p not in plans_zoned)],
        key=lambda e: title_point(rung, e)[0],
    )
    uniform_points = [title_point(rung, e) for e in uniform]
    per_shot_points = [title_point(rung, e) for e in per_shot]
    predicted = [predict(rung, curves, e.crfs) for e in per_shot]
    return {
        "size": f"{rung.size[0]}x{rung.size[1]}",
        "uniform": [encode_entry(rung, e) for e in uniform],
        "per_shot": [
            {**encode_entry(rung, e), "predicted": rounded(predict(rung, curves, e.crfs))}
            for e in per_shot
        ],
        "shot_curves": [{str(c): rounded(curve[c]) for c in crf_grid} for curve in curves],
        "zoned_encodes": len(zoned),
        "zones_took_effect": zone_check(rung, zoned, curves),
        "bd_rate_measured": round_or_none(bd_rate(uniform_points, per_shot_points)),
        # the same allocations as predicted from the shot curves
        "bd_rate_predicted": round_or_none(bd_rate(uniform_points, predicted)),
        "time": time_entry(uniform, zoned, uniform_score_wall),
        "example_command": printable(zoned[0].command if zoned else uniform[0].command),
    }


def encode_entry(rung: Rung, encode: Encode) -> dict[str, Any]:
    kbps, vmaf = title_point(rung, encode)
    return {
        "crfs": encode.crfs,
        "kbps": round(kbps, 1),
        "vmaf": round(vmaf, 3),
        "wall_seconds": round(encode.wall, 2),
        "cpu_seconds": round(encode.cpu, 2),
    }


def zone_check(rung: Rung, zoned: list[Encode], curves: list[Curve]) -> dict[str, Any]:
    """Whether the zones took effect: each shot's rate in a zoned encode against its rate in
    the uniform encode at that shot's CRF (the shot curves), as the median and largest
    relative difference over every shot of every zoned encode."""
    errors = []
    for encode in zoned:
        for (first, end), curve, crf in zip(rung.shots, curves, encode.crfs, strict=True):
            real = span_point(rung, encode, first, end)[0]
            errors.append(abs(real / curve[crf][0] - 1))
    errors.sort()
    if not errors:
        return {}
    return {
        "shots_compared": len(errors),
        "median_rate_error_percent": round(100 * errors[len(errors) // 2], 1),
        "max_rate_error_percent": round(100 * errors[-1], 1),
    }


def time_entry(uniform: list[Encode], zoned: list[Encode], score_wall: float) -> dict[str, Any]:
    def mean(values: list[float]) -> float | None:
        return round(sum(values) / len(values), 2) if values else None

    return {
        "uniform_encode_wall_mean": mean([e.wall for e in uniform]),
        "uniform_encode_cpu_mean": mean([e.cpu for e in uniform]),
        "per_shot_encode_wall_mean": mean([e.wall for e in zoned]),
        "per_shot_encode_cpu_mean": mean([e.cpu for e in zoned]),
        # what per-shot allocation needs before its one encode: the uniform encodes and
        # their scoring (the scene scan is timed per title)
        "analysis_encode_wall": round(sum(e.wall for e in uniform), 2),
        "analysis_encode_cpu": round(sum(e.cpu for e in uniform), 2),
        "analysis_score_wall": round(score_wall, 2),
    }


def rounded(point: tuple[float, float]) -> list[float]:
    return [round(point[0], 1), round(point[1], 3)]


def round_or_none(value: float | None) -> float | None:
    return round(value, 2) if value is not None else None


def printable(command: list[str]) -> str:
    """The command with the work folder's paths cut to their names."""
    return shlex.join(Path(a).name if a.startswith("/") else a for a in command)


def rung_size(width: int, height: int, rung_height: int) -> tuple[int, int]:
    """The rung's size: `rung_height` lines (never more than the source's), width to keep
    the aspect, both even."""
    h = min(height, rung_height)
    return max(2, round(width * h / height / 2) * 2), h


def svtav1_zones() -> dict[str, str]:
    """Whether libsvtav1 takes a per-frame-range CRF through FFmpeg: each candidate key of
    SVT-AV1's own parameters tried on a one-second encode, with FFmpeg's answer."""
    answers = {}
    for key, value in (("zones", "0,12,crf=20"), ("qp-file", "qp.txt"), ("roi-map-file", "r.txt")):
        proc = subprocess.run(
            [
                # FFmpeg reports a key SVT-AV1 rejects as a warning, and encodes on
                *(ffmpeg_exe(), "-hide_banner", "-nostdin", "-v", "warning", "-f", "lavfi"),
                *("-i", "testsrc2=size=320x180:rate=25", "-t", "1", "-c:v", "libsvtav1"),
                *("-preset", "12", "-crf", "30", "-svtav1-params", f"{key}={value}"),
                *("-f", "null", "-"),
            ],
            capture_output=True,
            text=True,
            check=False,
        )
        errors = [line for line in proc.stderr.splitlines() if "Error parsing option" in line]
        answers[key] = errors[0].split("] ", 1)[-1] if errors else "accepted"
    return answers


def run_title(name: str, source: Path, args: argparse.Namespace, work: Path) -> dict[str, Any]:
    probe = probe_file(source)
    video = probe.primary_video
    assert video is not None
    fps = Fraction(video.frame_rate).limit_denominator(1001)
    shots, scan_wall = shots_of(source, probe, fps)
    out: dict[str, Any] = {
        "title": name,
        "size": f"{video.width}x{video.height}",
        "fps": str(fps),
        "shots": len(shots),
        "shot_frames": shots,
        "scan_wall_seconds": round(scan_wall, 2),
        "rungs": [],
    }
    print(f"[{name}] {len(shots)} shot(s) {[a for a, _ in shots]}", flush=True)
    if len(shots) < 2:
        out["note"] = "one shot: per-shot allocation is the uniform CRF, not encoded"
        return out
    for height in args.heights:
        rung = Rung(
            source=source,
            size=rung_size(video.width, video.height, height),
            fps=fps,
            frames=shots[-1][1],
            shots=shots,
            preset=args.preset,
            subsample=args.subsample,
            work=work,
        )
        out["rungs"].append(run_rung(rung, args.crfs, f"{name}-{height}"))
    return out


def print_table(report: dict[str, Any]) -> None:
    print(
        "\n| title | shots | rung | BD-rate per-shot vs uniform (measured) | predicted "
        "| zones: median shot-rate error | encode CPU s uniform / per-shot | analysis CPU s |"
    )
    print("|---|---|---|---|---|---|---|---|")
    for t in report["titles"]:
        if not t["rungs"]:
            print(f"| {t['title']} | {t['shots']} | - | n/a (one shot) | | | | |")
        for r in t["rungs"]:
            tm = r["time"]
            measured, predicted = r["bd_rate_measured"], r["bd_rate_predicted"]
            print(
                f"| {t['title']} | {t['shots']} | {r['size']} | "
                f"{'n/a' if measured is None else f'{measured:+.2f} %'} | "
                f"{'n/a' if predicted is None else f'{predicted:+.2f} %'} | "
                f"{zone_text(r['zones_took_effect'])} | "
                f"{tm['uniform_encode_cpu_mean']} / {tm['per_shot_encode_cpu_mean']} | "
                f"{tm['analysis_encode_cpu']} + scoring {tm['analysis_score_wall']} s wall |"
            )
    print(f"\nSVT-AV1 per-frame-range CRF through FFmpeg: {report['svtav1_per_range_crf']}")
    for t in report["titles"]:
        for r in t["rungs"]:
            print(f"\n{t['title']} {r['size']}: kb/s, VMAF (CRF per shot)")
            for e in r["uniform"]:
                print(f"  uniform  {e['kbps']:8.1f} {e['vmaf']:7.3f}  crf {e['crfs'][0]}")
            for e in r["per_shot"]:
                print(
                    f"  per-shot {e['kbps']:8.1f} {e['vmaf']:7.3f}  crfs {e['crfs']} "
                    f"(predicted {e['predicted'][0]}, {e['predicted'][1]})"
                )


def zone_text(check: dict[str, Any]) -> str:
    if not check:
        return "no zoned encode (every allocation uniform)"
    return f"{check['median_rate_error_percent']} % (max {check['max_rate_error_percent']} %)"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--titles", default="bbb,noisy,slides,bikes,pan,montage")
    parser.add_argument("--heights", default="720", help="rung heights, comma-separated")
    parser.add_argument("--crfs", default="18,21,24,27,30", help="the uniform CRFs")
    parser.add_argument("--preset", default="medium")
    parser.add_argument("--subsample", type=int, default=2, help="VMAF on every n-th frame")
    parser.add_argument("--work", type=Path, help="keep titles and encodes here (reused)")
    parser.add_argument("--out", type=Path, default=RESULTS / "per_shot.json")
    args = parser.parse_args()
    wanted = args.titles.split(",")
    if not set(wanted) <= {*LADDER_TITLES, "montage"}:
        parser.error(f"--titles: choose from {', '.join([*LADDER_TITLES, 'montage'])}")
    args.heights = [int(h) for h in args.heights.split(",")]
    args.crfs = sorted(int(c) for c in args.crfs.split(","))
    report: dict[str, Any] = {
        "machine": {"cpus": os.cpu_count(), "platform": platform.platform()},
        "ffmpeg": ffmpeg_version(),
        "seconds": args.seconds,
        "preset": args.preset,
        "crfs": args.crfs,
        "vmaf_subsample": args.subsample,
        "svtav1_per_range_crf": svtav1_zones(),
        "titles": [],
    }
    with tempfile.TemporaryDirectory() as tmp:
        work = args.work or Path(tmp)
        work.mkdir(parents=True, exist_ok=True)
        titles = ladder_titles(work, args.seconds, wanted)
        for name in wanted:
            report["titles"].append(run_title(name, titles[name], args, work))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2) + "\n")
    print_table(report)
    print(f"\nwrote {args.out}")


def ladder_titles(work: Path, seconds: float, wanted: list[str]) -> dict[str, Path]:
    """The wanted titles (a title file already in `work` is reused); `montage` needs all
    five ladder titles."""
    names = list(LADDER_TITLES) if "montage" in wanted else [n for n in wanted if n != "montage"]
    missing = [n for n in names if not (work / f"{n}.mp4").is_file()]
    if missing:
        make_titles(work, seconds, only=missing)
    titles = {n: work / f"{n}.mp4" for n in names}
    if "montage" in wanted:
        titles["montage"] = work / "montage.mp4"
        if not titles["montage"].is_file():
            montage(work, {n: titles[n] for n in LADDER_TITLES}, seconds)
    return titles


if __name__ == "__main__":
    main()
