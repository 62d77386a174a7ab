"""Objective quality with the bundled FFmpeg: VMAF from its `libvmaf` filter (PSNR when that
filter is missing), each encode upscaled to the reference size first, several comparisons in
one FFmpeg run, and `n_subsample` to score only every n-th frame."""

from __future__ import annotations

import functools
import json
import math
import subprocess
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path

from primevod.adapters.media.ffmpeg_binary import ffmpeg_exe
from primevod.core.errors import MediaError
from primevod.core.hls import parse_media_playlist
from primevod.core.outputs import PackageResult, RenditionOutput
from primevod.core.probe import ProbeResult
from primevod.core.quality import Metric, RungQuality

VMAF_MAX_SIZE = (1920, 1080)  # the vmaf_v0.6.1 model is trained for 1080p viewing


@functools.cache
def has_libvmaf() -> bool:
    out = subprocess.run(
        [ffmpeg_exe(), "-hide_banner", "-filters"], capture_output=True, text=True, check=False
    ).stdout
    return any(line.split()[1:2] == ["libvmaf"] for line in out.splitlines() if line.strip())


def default_metric() -> Metric:
    return "vmaf" if has_libvmaf() else "psnr"


def reference_size(width: int, height: int) -> tuple[int, int]:
    """The size scores are computed at: the source's display size, shrunk to fit 1080p."""
    box_long, box_short = VMAF_MAX_SIZE
    scale = min(1.0, box_long / max(width, height), box_short / min(width, height))
    return (max(2, round(width * scale / 2) * 2), max(2, round(height * scale / 2) * 2))


@dataclass
class Comparison:
    """One encode against the source: the FFmpeg input arguments of each (a reference with
    the same arguments as another comparison's is decoded once) and the filters that turn
    the decoded reference into what the encoder saw (frame rate, deinterlacing)."""

    distorted: list[str]
    reference: list[str]
    reference_filter: str = "null"
    distorted_filter: str = "null"
    label: str = ""


@dataclass
class Score:
    metric: Metric
    mean: float
    minimum: float
    frames: int
    psnr: float | None = None
    per_frame: list[float] = field(default_factory=list)


def compare(
    comparisons: Sequence[Comparison],
    size: tuple[int, int],
    *,
    subsample: int = 1,
    metric: Metric | None = None,
    threads: int = 0,
) -> list[Score]:
    """Score every comparison in one FFmpeg run. Each reference is brought to `size`
    (bicubic), each encode upscaled to it, both with timestamps from zero."""
    if not comparisons:
        return []
    metric = metric or default_metric()
    width, height = size
    refs: dict[tuple[str, ...], list[int]] = {}
    for i, c in enumerate(comparisons):
        refs.setdefault((*c.reference, c.reference_filter), []).append(i)
    with tempfile.TemporaryDirectory(prefix="primevod-quality-") as tmp:
        cmd = [ffmpeg_exe(), "-hide_banner", "-nostdin", "-v", "error"]
        inputs = 0
        dist_input: list[int] = []
        for c in comparisons:
            cmd += c.distorted
            dist_input.append(inputs)
            inputs += 1
        graph: list[str] = []
        ref_label: dict[int, str] = {}
        for n, (key, users) in enumerate(refs.items()):
            cmd += list(key[:-1])
            outs = "".join(f"[r{n}_{k}]" for k in range(len(users)))
            graph.append(
                f"[{inputs}:v]{key[-1]},scale={width}:{height}:flags=bicubic,setsar=1,"
                f"format=yuv420p,setpts=PTS-STARTPTS,split={len(users)}{outs}"
            )
            for k, i in enumerate(users):
                ref_label[i] = f"r{n}_{k}"
            inputs += 1
        maps: list[str] = []
        logs: list[Path] = []
        for i, c in enumerate(comparisons):
            log = Path(tmp) / f"score{i}.{'json' if metric == 'vmaf' else 'txt'}"
            logs.append(log)
            graph.append(
                f"[{dist_input[i]}:v]{c.distorted_filter},scale={width}:{height}:flags=bicubic,"
                f"setsar=1,format=yuv420p,setpts=PTS-STARTPTS[d{i}]"
            )
            if metric == "vmaf":
                measure = (
                    f"libvmaf=log_fmt=json:log_path={_escape(log)}:n_subsample={subsample}"
                    f":n_threads={threads or 2}:shortest=1:ts_sync_mode=nearest"
                )
            else:
                measure = f"psnr=stats_file={_escape(log)}:shortest=1:ts_sync_mode=nearest"
            graph.append(f"[d{i}][{ref_label[i]}]{measure}[o{i}]")
            maps += ["-map", f"[o{i}]", "-f", "null", "-"]
        cmd += ["-filter_complex", ";".join(graph), *maps]
        proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
        if proc.returncode != 0:
            tail = proc.stderr.strip().splitlines()[-1:] or [f"exit {proc.returncode}"]
            raise MediaError("encode.failed", f"quality measurement failed: {tail[0]}")
        return [_read_vmaf(log) if metric == "vmaf" else _read_psnr(log) for log in logs]


def _escape(path: Path) -> str:
    return str(path).replace("\\", "/").replace(":", "\\\\:")


def _read_vmaf(log: Path) -> Score:
    data = json.loads(log.read_text())
    frames = [f["metrics"]["vmaf"] for f in data.get("frames", []) if "vmaf" in f["metrics"]]
    pooled = data.get("pooled_metrics", {}).get("vmaf", {})
    mean = pooled.get("mean", sum(frames) / len(frames) if frames else 0.0)
    return Score(
        metric="vmaf",
        mean=round(float(mean), 3),
        minimum=round(float(pooled.get("min", min(frames, default=0.0))), 3),
        frames=len(frames),
        per_frame=[round(float(v), 3) for v in frames],
    )


def _read_psnr(log: Path) -> Score:
    mses = []
    for line in log.read_text().splitlines():
        fields = dict(item.split(":", 1) for item in line.split() if ":" in item)
        if "mse_avg" in fields:
            mses.append(float(fields["mse_avg"]))
    per = [_psnr(m) for m in mses]
    mean = _psnr(sum(mses) / len(mses)) if mses else 0.0
    return Score(
        metric="psnr",
        mean=round(mean, 3),
        minimum=round(min(per, default=0.0), 3),
        frames=len(mses),
        psnr=round(mean, 3),
        per_frame=[round(p, 3) for p in per],
    )


def _psnr(mse: float) -> float:
    return 100.0 if mse <= 1e-10 else min(100.0, 10 * math.log10(255.0**2 / mse))


def spread(count: int, total: int) -> list[int]:
    """`count` indices spread evenly over range(total) (all of them when count >= total)."""
    if count <= 0 or count >= total:
        return list(range(total))
    return sorted({min(total - 1, int((k + 0.5) * total / count)) for k in range(count)})


def measure_package(
    result: PackageResult,
    source: Path,
    probe: ProbeResult,
    *,
    segments: int | None = 3,
    subsample: int = 1,
    metric: Metric | None = None,
) -> list[RungQuality]:
    """Score every video rendition of a finished package against the source at the source's
    display size (capped to 1080p), each rung upscaled to it. `segments`: score that many
    segments spread over the title (the same ones in every rung), or all when None."""
    video = probe.primary_video
    ladder = result.ladder
    if video is None or not ladder.rungs or not ladder.frame_rate:
        return []
    root = Path(result.output_dir)
    fps = Fraction(ladder.frame_rate)
    pre = ("bwdif=mode=send_frame:parity=auto:deint=all," if ladder.deinterlace else "") + (
        f"fps={ladder.frame_rate}"
    )
    seg_frames = round(fps * Fraction(ladder.segment_seconds))
    size = reference_size(*video.display_size)
    renditions = [r for r in result.renditions if r.kind == "video"]
    reference = _SourceReference(source, fps, seg_frames)
    with tempfile.TemporaryDirectory(prefix="primevod-quality-") as tmp:
        work = Path(tmp)
        comparisons: list[Comparison] = []
        owners: list[int] = []
        for n, rendition in enumerate(renditions):
            mine = _rendition_comparisons(root, rendition, n, work, segments, reference)
            comparisons += mine
            owners += [n] * len(mine)
        for c in comparisons:
            c.reference_filter = pre
        scores = compare(comparisons, size, subsample=subsample, metric=metric)
    return [
        _rung_quality(rendition, [s for s, o in zip(scores, owners, strict=True) if o == n])
        for n, rendition in enumerate(renditions)
    ]


@dataclass(frozen=True)
class _SourceReference:
    """The source as FFmpeg input arguments: all of it, or the stretch under one segment
    (half a second longer: the comparison stops at the shorter of the two)."""

    source: Path
    fps: Fraction
    seg_frames: int

    def whole(self) -> list[str]:
        return ["-protocol_whitelist", "file", "-i", f"file:{self.source.absolute()}"]

    def segment(self, j: int) -> list[str]:
        start = float(j * self.seg_frames / self.fps)
        return [
            "-protocol_whitelist",
            "file",
            "-ss",
            f"{start:.6f}",
            "-t",
            f"{float(self.seg_frames / self.fps) + 0.5:.3f}",
            "-i",
            f"file:{self.source.absolute()}",
        ]


def _rendition_comparisons(
    root: Path,
    rendition: RenditionOutput,
    n: int,
    work: Path,
    segments: int | None,
    reference: _SourceReference,
) -> list[Comparison]:
    """One rendition's comparisons, its media written to `work` as playable MP4s (the init
    segment before the media): all of it as one file when `segments` is None, else each
    picked segment on its own."""
    info = parse_media_playlist((root / rendition.playlist).read_text())
    init = (root / (info.map_uri or rendition.init_segment or "")).read_bytes()
    chunks = [root / s.uri for s in info.segments]
    if segments is None:
        distorted = work / f"r{n}-all.mp4"
        with open(distorted, "wb") as out:
            out.write(init)
            for chunk in chunks:
                out.write(chunk.read_bytes())
        return [
            Comparison(
                distorted=["-i", str(distorted)],
                reference=reference.whole(),
                label=rendition.name,
            )
        ]
    comparisons = []
    for j in spread(segments, len(chunks)) if segments else list(range(len(chunks))):
        distorted = work / f"r{n}-s{j}.mp4"
        distorted.write_bytes(init + chunks[j].read_bytes())
        comparisons.append(
            Comparison(
                distorted=["-i", str(distorted)],
                reference=reference.segment(j),
                label=f"{rendition.name}#{j}",
            )
        )
    return comparisons


def _rung_quality(rendition: RenditionOutput, mine: list[Score]) -> RungQuality:
    """A rendition's quality: its comparisons' means weighted by their scored frames; the
    lowest of them as its minimum."""
    frames = sum(max(1, s.frames) for s in mine)
    mean = sum(s.mean * max(1, s.frames) for s in mine) / frames if mine else None
    return RungQuality(
        name=rendition.name,
        width=rendition.width or 0,
        height=rendition.height or 0,
        average_kbps=round(rendition.average_bitrate / 1000, 1),
        peak_kbps=round(rendition.peak_bitrate / 1000, 1),
        vmaf=round(mean, 3) if mean is not None and mine[0].metric == "vmaf" else None,
        vmaf_min=round(min(s.mean for s in mine), 3) if mine and mine[0].metric == "vmaf" else None,
        psnr=round(mean, 3) if mean is not None and mine[0].metric == "psnr" else None,
        metric=mine[0].metric if mine else "vmaf",
    )
