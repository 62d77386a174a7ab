"""Complexity analysis for the `auto` ladder: a cheap scan of the whole title for scene cuts
and motion, a few representative samples spread over it, probe encodes of those samples at
a few resolutions and CRFs (one FFmpeg run), their VMAF against the source (one more run),
and the result cached per source checksum."""

from __future__ import annotations

import hashlib
import itertools
import json
import math
import os
import subprocess
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from fractions import Fraction
from pathlib import Path

import av
import av.error

from primevod.adapters.media.ffmpeg_binary import ffmpeg_exe
from primevod.adapters.media.ffmpeg_command import PRESETS
from primevod.adapters.media.quality_meter import Comparison, compare, default_metric
from primevod.adapters.media.quality_meter import reference_size as score_size
from primevod.core.errors import MediaError
from primevod.core.ladder import (
    AutoLadderConfig,
    LadderPolicy,
    RateControl,
    RungTemplate,
    gop_seconds_for,
    output_frame_rate,
    plan_ladder,
)
from primevod.core.probe import ProbeResult
from primevod.core.quality import ComplexityAnalysis, ProbePoint, probe_sizes

ANALYSIS_VERSION = 3
SCAN_SIZE = (32, 18)  # the scene scan's picture: enough for cuts and motion, cheap in Python
SCAN_WINDOW_SECONDS = 4.0  # decoded per zone (at least 4 samples long)
# change over STILL_GAP seconds (mean absolute difference, 0-255 grey at SCAN_SIZE) that 3 in
# 4 frames of every scanned window stay under when a title is still pictures (slides, a test
# card): a gap, not the next frame, so that the frame rate and held frames (animation on
# twos) do not make slow motion look still
STILL_GAP = 0.2
STILL_CHANGE = 0.5
# bits per pixel and frame of the largest size at the highest probe CRF above which a
# "still" title is not cheap after all (grain or texture the scan cannot see): slides
# measure about 0.005, Big Buck Bunny 0.026
STILL_MAX_BPP = 0.012
PROBE_PRESET_FLOOR = "veryfast"  # probes never run slower than this


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as src:
        while chunk := src.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def probe_preset(preset: str) -> str:
    """The preset of the probe encodes: the encode's own, but no slower than `veryfast`
    (probes only rank resolutions and CRFs; a slower final preset only saves more)."""
    if preset not in PRESETS:
        return PROBE_PRESET_FLOOR
    return PRESETS[min(PRESETS.index(preset), PRESETS.index(PROBE_PRESET_FLOOR))]


def analyze(
    source: Path,
    probe: ProbeResult,
    config: AutoLadderConfig,
    *,
    preset: str = "veryfast",
    cache_dir: Path | None = None,
    checksum: str | None = None,
) -> ComplexityAnalysis:
    """Measure bitrate against quality on samples of the title at a few resolutions; cached
    in `cache_dir/<sha256>-<settings>.json` when a cache folder is given."""
    started = time.monotonic()
    video = probe.primary_video
    if video is None:
        raise MediaError("source.no_video", "the auto ladder needs a video stream")
    fps = output_frame_rate(video)
    gop_s = gop_seconds_for(4.0)
    p_preset = probe_preset(preset)
    settings_key = hashlib.sha256(
        json.dumps(
            [
                ANALYSIS_VERSION,
                config.probe_crfs,
                config.heights,
                config.probe_heights,
                config.samples,
                config.sample_seconds,
                p_preset,
                default_metric(),
            ]
        ).encode()
    ).hexdigest()[:12]
    cache_file = None
    if cache_dir is not None:
        checksum = checksum or sha256_of(source)
        cache_file = Path(cache_dir) / f"{checksum}-{settings_key}.json"
        if cache_file.is_file():
            try:
                cached = ComplexityAnalysis.model_validate_json(cache_file.read_text())
                return cached.model_copy(update={"cached": True})
            except ValueError:
                cache_file.unlink(missing_ok=True)

    duration = float(probe.duration or 0.0)
    timing: dict[str, float] = {}
    deinterlace = video.scan_type == "interlaced"
    pre = ("bwdif=mode=send_frame:parity=auto:deint=all," if deinterlace else "") + f"fps={fps}"
    sample_len = config.sample_seconds
    count = config.samples or max(3, min(8, round(duration / 15)))
    static = False
    if duration <= 0 or count * sample_len >= duration * 0.6:
        cuts: list[float] = []
        samples = [(0.0, duration if duration > 0 else sample_len)]
    else:
        t0 = time.monotonic()
        # one window per equal zone of the title, decoded around the zone's middle; the
        # windows are decoded side by side (one decoding thread each)
        zone = duration / count
        span = min(zone, max(4 * sample_len, SCAN_WINDOW_SECONDS))
        wanted = [z * zone + (zone - span) / 2 for z in range(count)]
        laid = scan_windows(source, video.index, wanted, span, duration)

        workers = max(1, min(count, 2 * (os.cpu_count() or 1), 8))
        with ThreadPoolExecutor(max_workers=workers) as pool:
            scanned = list(
                pool.map(
                    lambda window: scan(
                        source, probe, float(fps), start=window[0], length=window[1], threads=1
                    ),
                    laid,
                )
            )
        timing["scan"] = time.monotonic() - t0
        windows = [
            (w0, activity, [w0 + c for c in found])
            for (w0, _), (activity, found, _) in zip(laid, scanned, strict=True)
        ]
        cuts = sorted({round(c, 3) for _, _, found in windows for c in found})
        samples = pick_samples(windows, float(fps), sample_len, duration)
        static = is_static([change for _, _, change in scanned])

    # the rung sizes the probes run at: the planner's own fit of the source into each box
    boxes = probe_sizes(video.display_size, config)
    stand_in = LadderPolicy(
        name="probe",
        description="probe sizes",
        rate_control=RateControl.CAPPED_CRF,
        rungs=[
            RungTemplate(width=w, height=h, bitrate_kbps=max(32, w * h // 100), crf=23)
            for w, h in boxes
        ],
        dedup_ratio=1.0,
    )
    sizes = sorted({(r.width, r.height) for r in plan_ladder(probe, stand_in).rungs})
    probed, skipped = sizes, []
    if static and len(sizes) > 2:
        # still pictures: the full size wins at every bitrate worth having; the smallest
        # size stays as the fallback for the bottom of the ladder
        probed, skipped = [sizes[0], sizes[-1]], sizes[1:-1]
    ref_w, ref_h = video.display_size
    ref_size = score_size(ref_w, ref_h)
    gop_frames = max(1, round(float(fps) * gop_s))
    frames = sum(max(1, round(d * float(fps))) for _, d in samples)
    seconds = frames / float(fps)
    sample_inputs: list[str] = []
    for start, length in samples:
        sample_inputs += ["-ss", f"{start:.3f}", "-t", f"{length:.3f}"]
        sample_inputs += ["-i", f"file:{source.absolute()}"]

    metric = default_metric()
    with tempfile.TemporaryDirectory(prefix="primevod-analysis-") as tmp:
        work = Path(tmp)
        ref_file = work / "reference.mkv"
        n = len(samples)
        joined = "".join(f"[{k}:{video.index}]{pre},setpts=PTS-STARTPTS[p{k}];" for k in range(n))
        concat = "".join(f"[p{k}]" for k in range(n)) + f"concat=n={n}:v=1:a=0[cat]"

        def encode_probes(outs: list[tuple[int, int, int]], first: int) -> None:
            """One FFmpeg run: the probes `first`... from the samples, and the samples
            losslessly as the reference (exact, quick to decode, the same frames for every
            comparison); a later run reads that reference instead of the source."""
            cmd = [ffmpeg_exe(), "-hide_banner", "-nostdin", "-v", "error", "-y"]
            cmd += ["-protocol_whitelist", "file"]
            if first == 0:
                cmd += sample_inputs
                head = joined + concat
            else:
                cmd += ["-i", str(ref_file)]
                head = "[0:v]null[cat]"
            labels = "".join(f"[c{i}]" for i in range(len(outs))) + ("[ref]" if first == 0 else "")
            split = f"[cat]split={len(outs) + (first == 0)}{labels}"
            graph = [head, split]
            maps: list[str] = []
            for i, (w, h, crf) in enumerate(outs):
                graph.append(f"[c{i}]scale={w}:{h}:flags=bicubic,setsar=1,format=yuv420p[e{i}]")
                maps += ["-map", f"[e{i}]", "-c:v", "libx264", "-preset", p_preset]
                maps += ["-threads", "1", "-crf", str(crf), "-g", str(gop_frames)]
                maps += ["-keyint_min", str(gop_frames), "-sc_threshold", "0"]
                maps += ["-f", "h264", str(work / f"probe{first + i}.h264")]
            if first == 0:
                maps += ["-map", "[ref]", "-c:v", "libx264", "-preset", "ultrafast", "-qp", "0"]
                maps += ["-threads", "1", str(ref_file)]
            cmd += ["-filter_complex", ";".join(graph), *maps]
            t0 = time.monotonic()
            proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
            if proc.returncode != 0:
                tail = proc.stderr.strip().splitlines()[-1:] or [f"exit {proc.returncode}"]
                raise MediaError("encode.failed", f"probe encodes failed: {tail[0]}")
            timing["probe_encodes"] = timing.get("probe_encodes", 0.0) + time.monotonic() - t0

        def score_probes(outs: list[tuple[int, int, int]], first: int) -> list[ProbePoint]:
            files = [work / f"probe{first + i}.h264" for i in range(len(outs))]
            comparisons = [
                Comparison(
                    distorted=["-f", "h264", "-framerate", str(fps), "-i", str(f)],
                    reference=["-i", str(ref_file)],
                    label=f"{w}x{h}@{crf}",
                )
                for f, (w, h, crf) in zip(files, outs, strict=True)
            ]
            # about 6 scored frames per second; 2 when the pictures stand still
            subsample = max(1, round(float(fps) / (2 if static else 6)))
            t0 = time.monotonic()
            scores = compare(comparisons, ref_size, subsample=subsample, metric=metric)
            timing["scores"] = timing.get("scores", 0.0) + time.monotonic() - t0
            return [
                ProbePoint(
                    width=w,
                    height=h,
                    crf=crf,
                    kbps=round(f.stat().st_size * 8 / 1000 / seconds, 2),
                    quality=score.mean,
                )
                for f, (w, h, crf), score in zip(files, outs, scores, strict=True)
            ]

        crfs = config.probe_crfs
        outs = [(w, h, crf) for w, h in probed for crf in crfs]
        encode_probes(outs, 0)
        points = score_probes(outs, 0)
        if static and skipped and not still_is_cheap(points, float(fps)):
            # "still" by the scan, but the full picture is costly (grain, fine texture the
            # 32x18 scan cannot see): probe the sizes in between after all
            static = False
            more = [(w, h, crf) for w, h in skipped for crf in crfs]
            encode_probes(more, len(outs))
            points += score_probes(more, len(outs))
    analysis = ComplexityAnalysis(
        version=ANALYSIS_VERSION,
        checksum=checksum,
        metric=metric,
        duration=duration,
        source_size=(ref_w, ref_h),
        frame_rate=str(fps),
        samples=[(round(s, 3), round(d, 3)) for s, d in samples],
        scene_cuts=[round(c, 3) for c in cuts],
        static=static,
        preset=p_preset,
        points=points,
        seconds=round(time.monotonic() - started, 3),
        timing={k: round(v, 3) for k, v in timing.items()},
    )
    if cache_file is not None:
        cache_file.parent.mkdir(parents=True, exist_ok=True)
        tmp_file = cache_file.with_suffix(".tmp")
        tmp_file.write_text(analysis.model_dump_json(indent=1))
        tmp_file.replace(cache_file)
    return analysis


def scan(
    source: Path,
    probe: ProbeResult,
    fps: float,
    *,
    start: float | None = None,
    length: float | None = None,
    threads: int = 0,
) -> tuple[list[float], list[float], list[float]]:
    """Decode the title (or `length` seconds from `start`) to tiny grey frames: per-frame
    activity (mean absolute difference to the previous frame, 0-255), the times of scene
    cuts (relative to `start`), and each frame's change over the last `STILL_GAP` seconds."""
    video = probe.primary_video
    assert video is not None
    w, h = SCAN_SIZE
    window = []
    if start is not None:  # rounded up: a start on a keyframe must not seek to the one before
        window += ["-ss", f"{math.ceil(max(0.0, start) * 1000) / 1000:.3f}"]
    if length is not None:
        window += ["-t", f"{length:.3f}"]
    cmd = [
        ffmpeg_exe(),
        "-hide_banner",
        "-nostdin",
        "-v",
        "error",
        "-skip_loop_filter",
        "all",
        "-threads",
        str(threads),
        "-protocol_whitelist",
        "file",
        *window,
        "-i",
        f"file:{source.absolute()}",
        "-map",
        f"0:{video.index}",
        "-vf",
        f"fps={Fraction(fps).limit_denominator(1001)},scale={w}:{h}:flags=area,format=gray",
        "-f",
        "rawvideo",
        "-",
    ]
    proc = subprocess.run(cmd, capture_output=True, check=False)
    if proc.returncode != 0:
        raise MediaError("encode.failed", "the scene scan could not decode the source")
    data = proc.stdout
    size = w * h
    frames = [data[off : off + size] for off in range(0, len(data) - size + 1, size)]
    activity = [0.0] + [_difference(a, b) for a, b in itertools.pairwise(frames)]
    gap = max(1, round(fps * STILL_GAP))
    change = [_difference(frames[i - gap], frames[i]) for i in range(gap, len(frames))]
    cuts = []
    for i in range(1, len(activity)):
        window = activity[max(0, i - 15) : i]
        base = sorted(window)[len(window) // 2] if window else 0.0
        if activity[i] > 20.0 and activity[i] > 3.0 * base + 5.0:
            cuts.append(i / fps)
    return activity, cuts, change


def _difference(a: bytes, b: bytes) -> float:
    return sum(abs(x - y) for x, y in zip(a, b, strict=True)) / max(1, len(a))


def pick_samples(
    windows: list[tuple[float, list[float], list[float]]],
    fps: float,
    length: float,
    duration: float,
) -> list[tuple[float, float]]:
    """One sample per scanned window (start, per-frame activity, cut times): the stretch (on
    a half-second grid, or starting at a cut) that holds no scene cut and whose activity is
    closest to its window's median frame. A sample over a cut would be priced as two shots; one of
    the window's typical motion stands for its part of the title."""
    samples = []
    for w0, activity, cuts in windows:
        span = len(activity) / fps if activity else length
        last = w0 + max(0.0, span - length)
        starts = [w0 + k * 0.5 for k in range(int((last - w0) / 0.5) + 1)]
        starts += [c for c in cuts if w0 <= c <= last]
        # the typical motion of the window: its median frame (a burst does not move it)
        mean = sorted(activity)[len(activity) // 2] if activity else 0.0

        def score(
            start: float,
            w0: float = w0,
            cuts: list[float] = cuts,
            activity: list[float] = activity,
            mean: float = mean,
        ) -> tuple[int, float]:
            inside = sum(1 for c in cuts if start + 0.1 < c < start + length - 0.1)
            i0 = int((start - w0) * fps) + 1
            frames = activity[i0 : int((start - w0 + length) * fps)] or [0.0]
            return inside, abs(sum(frames) / len(frames) - mean)

        best = min(starts, key=score)
        samples.append((round(best, 3), min(length, duration - best)))
    return samples


def is_static(changes: list[list[float]]) -> bool:
    """Still pictures: in every scanned window 3 in 4 frames differ by less than
    `STILL_CHANGE` from the frame `STILL_GAP` seconds before (the frames just after a cut
    between two stills are the 4th)."""
    if not changes or not all(changes):
        return False
    return all(sorted(c)[(len(c) * 3) // 4] < STILL_CHANGE for c in changes)


def still_is_cheap(points: list[ProbePoint], fps: float) -> bool:
    """The largest probed size at the highest probe CRF costs at most `STILL_MAX_BPP`."""
    if not points:
        return False
    top = max(points, key=lambda p: (p.width * p.height, p.crf))
    return top.kbps * 1000 / (top.width * top.height * fps) <= STILL_MAX_BPP


def scan_windows(
    source: Path, index: int, wanted: list[float], span: float, duration: float
) -> list[tuple[float, float]]:
    """(start, length) of each scan window, laid on the source's keyframes (read from the
    container's packets, nothing decoded) so that no decoded frame is thrown away: FFmpeg
    decodes from the keyframe before a seek point, a whole GOP (8 s in some mezzanine
    files) for nothing. A window whose wanted start has a keyframe at most `span` before
    it starts there and stretches to its wanted end; else one starting at the first
    keyframe at most `span` after; else the window stays as wanted."""
    as_wanted = [(w, span) for w in wanted]
    windows = list(as_wanted)
    try:
        with av.open(
            f"file:{source.absolute()}", options={"protocol_whitelist": "file"}
        ) as container:
            stream = container.streams[index]
            base = container.start_time / 1_000_000 if container.start_time else 0.0
            tb = float(stream.time_base or 0) or 1 / 90000
            floor = 0.0  # windows never overlap: a window starts after the one before
            for i, want in enumerate(wanted):
                # from `span` before (an imprecise seek, as in MPEG-TS, lands late)
                seek_to = max(0.0, want - span)
                container.seek(int((seek_to + base) / tb), stream=stream, backward=True)
                keys = []
                for packet in container.demux(stream):
                    if packet.pts is None:
                        continue
                    t = float(packet.pts) * tb - base
                    if t > want + span:
                        break
                    if packet.is_keyframe:
                        keys.append(t)
                low = max(want - span, floor)
                before = [k for k in keys if low <= k <= want + 1e-3]
                after = [k for k in keys if want < k <= min(want + span, duration - span)]
                if before:
                    windows[i] = (max(0.0, before[-1]), want + span - max(0.0, before[-1]))
                elif after:
                    windows[i] = (after[0], span)
                floor = windows[i][0] + windows[i][1]
    except (av.error.FFmpegError, OSError, ValueError):
        return as_wanted  # no seekable index: decode as wanted
    return windows
