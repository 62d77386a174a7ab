"""The complexity analysis's scene scan: a few windows of the title, laid on its keyframes and
decoded side by side to tiny grey frames, for scene cuts, motion and still pictures; and the
samples the probe encodes run on, picked from those windows."""

from __future__ import annotations

import itertools
import math
import os
import subprocess
import time
from concurrent.futures import ThreadPoolExecutor
from fractions import Fraction
from pathlib import Path
from typing import NamedTuple

import av
import av.error

from primevod.adapters.media.ffmpeg_binary import ffmpeg_exe
from primevod.core.errors import MediaError
from primevod.core.ladder import AutoLadderConfig
from primevod.core.probe import ProbeResult

SCAN_SIZE = (32, 18)  # the scene scan's picture: enough for cuts and motion, cheap in Python
SCAN_WINDOW_SECONDS = 4.0  # decoded per zone (at least 4 samples long)
# change over STILL_GAP seconds (mean absolute difference, 0-255 grey at SCAN_SIZE) that 3 in
# 4 frames of every scanned window stay under when a title is still pictures (slides, a test
# card): a gap, not the next frame, so that the frame rate and held frames (animation on
# twos) do not make slow motion look still
STILL_GAP = 0.2
STILL_CHANGE = 0.5


class TitleScan(NamedTuple):
    samples: list[tuple[float, float]]
    cuts: list[float]
    static: bool


def scan_title(
    source: Path,
    probe: ProbeResult,
    config: AutoLadderConfig,
    fps: Fraction,
    duration: float,
    timing: dict[str, float],
) -> TitleScan:
    """The samples the probes run on, the scene cuts and whether the title is still pictures.
    A title too short to sample is one sample, unscanned."""
    sample_len = config.sample_seconds
    count = config.samples or max(3, min(8, round(duration / 15)))
    if duration <= 0 or count * sample_len >= duration * 0.6:
        return TitleScan([(0.0, duration if duration > 0 else sample_len)], [], False)
    video = probe.primary_video
    assert video is not None
    t0 = time.monotonic()
    # one window per equal zone of the title, decoded around the zone's middle
    zone = duration / count
    span = min(zone, max(4 * sample_len, SCAN_WINDOW_SECONDS))
    wanted = [z * zone + (zone - span) / 2 for z in range(count)]
    laid = scan_windows(source, video.index, wanted, span, duration)
    scanned = _scan_side_by_side(source, probe, float(fps), laid)
    timing["scan"] = time.monotonic() - t0
    windows = [
        (w0, activity, [w0 + c for c in found])
        for (w0, _), (activity, found, _) in zip(laid, scanned, strict=True)
    ]
    cuts = sorted({round(c, 3) for _, _, found in windows for c in found})
    samples = pick_samples(windows, float(fps), sample_len, duration)
    return TitleScan(samples, cuts, is_static([change for _, _, change in scanned]))


def _scan_side_by_side(
    source: Path, probe: ProbeResult, fps: float, laid: list[tuple[float, float]]
) -> list[tuple[list[float], list[float], list[float]]]:
    """`scan` of every window, one decoding thread each: FFmpeg runs in its own process, so
    threads are enough to keep the cores busy."""
    workers = max(1, min(len(laid), 2 * (os.cpu_count() or 1), 8))
    with ThreadPoolExecutor(max_workers=workers) as pool:
        return list(
            pool.map(
                lambda window: scan(
                    source, probe, fps, start=window[0], length=window[1], threads=1
                ),
                laid,
            )
        )


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
