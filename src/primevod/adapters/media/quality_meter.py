"""Objective quality with the bundled FFmpeg: VMAF from its `libvmaf` filter (PSNR when that
filter is missing), each encode upscaled to the reference size first, several comparisons in
one FFmpeg run, and `n_subsample` to score only every n-th frame. `compare` scores arbitrary
pairs (the analysis' probes); `measure_renditions` scores a finished package's renditions of
any codec family on spans of the title (`core/quality_sampling.py`)."""

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
from primevod.adapters.media.ffmpeg_command import source_filters
from primevod.adapters.media.source_keyframes import keyframes_in, video_time_base
from primevod.core.errors import MediaError
from primevod.core.hls import MediaPlaylistInfo, parse_media_playlist
from primevod.core.outputs import PackageResult, RenditionOutput
from primevod.core.probe import ProbeResult
from primevod.core.quality import Metric, RungQuality
from primevod.core.quality_sampling import (
    SOURCE_LEAD,
    Grid,
    QualitySampling,
    Span,
    plan_spans,
    search_windows,
    seek_step,
    span_of_frame,
)

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


def measure_package(
    result: PackageResult,
    source: Path,
    probe: ProbeResult,
    *,
    segments: int | None = 3,
    subsample: int = 1,
    span_seconds: float | None = None,
    metric: Metric | None = None,
    threads: int = 0,
    size: tuple[int, int] | None = None,
    near_keyframes: bool = True,
) -> list[RungQuality]:
    """Score every video rendition of a finished package, whatever its codec family, against
    the source at the source's display size (capped to 1080p; `size` overrides it), each
    rendition upscaled to it. `segments`: that many spans spread over the title, the first
    `span_seconds` (None: all) of a segment each, or the whole title when None."""
    if segments is None:
        sampling = QualitySampling(scope="full", subsample=subsample)
    else:
        sampling = QualitySampling(
            spans=segments,
            span_seconds=span_seconds,
            subsample=subsample,
            near_keyframes=near_keyframes,
        )
    return measure_renditions(
        result, source, probe, sampling, metric=metric, threads=threads, size=size
    )


def measure_renditions(
    result: PackageResult,
    source: Path,
    probe: ProbeResult,
    sampling: QualitySampling,
    *,
    metric: Metric | None = None,
    threads: int = 0,
    size: tuple[int, int] | None = None,
) -> list[RungQuality]:
    """One FFmpeg run: each span of the source decoded once and split to every rendition,
    each rendition's spans joined into one stream, one `libvmaf` per rendition."""
    video = probe.primary_video
    ladder = result.ladder
    renditions = [r for r in result.renditions if r.kind == "video"]
    if video is None or not renditions or not ladder.frame_rate:
        return []
    root = Path(result.output_dir)
    fps = Fraction(ladder.frame_rate)
    playlists = [parse_media_playlist((root / r.playlist).read_text()) for r in renditions]
    spans = _plan(source, _grid(result, playlists[0], fps), sampling)
    metric = metric or default_metric()
    with tempfile.TemporaryDirectory(prefix="primevod-quality-") as tmp:
        distorted = [
            _span_files(root, r, info, spans, Path(tmp), n)
            for n, (r, info) in enumerate(zip(renditions, playlists, strict=True))
        ]
        job = _SpanJob(
            spans=spans,
            fps=fps,
            size=size or reference_size(*video.display_size),
            # what the encoder did to the source before its scale: an HDR source is scored
            # as the SDR picture its rungs aim at
            reference_filter=source_filters(ladder.deinterlace, ladder.tone_map, ladder.frame_rate),
            subsample=sampling.subsample,
            metric=metric,
            threads=threads or 2,
            source_time_base=video_time_base(source),
        )
        frames = job.run(source, distorted, Path(tmp))
    return [
        _rung_quality(rendition, spans, scored, metric)
        for rendition, scored in zip(renditions, frames, strict=True)
    ]


def _grid(result: PackageResult, info: MediaPlaylistInfo, fps: Fraction) -> Grid:
    ladder = result.ladder
    gop = round(fps * Fraction(ladder.gop_seconds)) if ladder.gop_seconds else None
    return Grid(
        durations=[s.duration for s in info.segments],
        fps=fps,
        segment_frames=round(fps * Fraction(ladder.segment_seconds)),
        gop_frames=gop,
    )


def _plan(source: Path, grid: Grid, sampling: QualitySampling) -> list[Span]:
    """The spans, placed after the source's keyframes where a demux of the stretches they
    may lie in finds them."""
    windows = search_windows(grid, sampling) if sampling.near_keyframes else []
    keyframes = keyframes_in(source, windows) if windows else None
    return plan_spans(grid, sampling, keyframes)


def _span_files(
    root: Path,
    rendition: RenditionOutput,
    info: MediaPlaylistInfo,
    spans: list[Span],
    work: Path,
    n: int,
) -> list[Path]:
    """Each span of one rendition as a playable MP4 (its init segment, then the span's media
    segments), which FFmpeg decodes with the codec the init segment names."""
    base = (root / rendition.playlist).parent  # a playlist's URIs are relative to it
    init_path = base / info.map_uri if info.map_uri else root / (rendition.init_segment or "")
    init = init_path.read_bytes()
    files = []
    for k, span in enumerate(spans):
        path = work / f"r{n}-s{k}.mp4"
        with open(path, "wb") as out:
            out.write(init)
            for segment in info.segments[span.first : span.first + span.count]:
                out.write((base / segment.uri).read_bytes())
        files.append(path)
    return files


@dataclass(frozen=True)
class _SpanJob:
    """The scoring run's graph: per span, the reference decoded once, brought to `size` and
    split to every rendition; per rendition, its spans and the reference's joined in order
    (`concat`, so the motion feature of a span's first frame sees real motion) and scored."""

    spans: list[Span]
    fps: Fraction
    size: tuple[int, int]
    reference_filter: str
    subsample: int
    metric: Metric
    threads: int
    source_time_base: Fraction | None = None

    def run(
        self, source: Path, distorted: list[list[Path]], work: Path
    ) -> list[list[tuple[int, float]]]:
        """Per rendition: (frame number in the joined spans, score) of every scored frame;
        PSNR scores are mean squared errors, pooled by the caller."""
        cmd = [ffmpeg_exe(), "-hide_banner", "-nostdin", "-v", "error"]
        for files in distorted:
            for span, path in zip(self.spans, files, strict=True):
                cmd += [*self._limit(span, span.offset), "-i", str(path)]
        for span in self.spans:
            cmd += ["-protocol_whitelist", "file", *self._seek(span)]
            cmd += [*self._limit(span, self._lead(span)), "-i", f"file:{source.absolute()}"]
        logs = [
            work / f"score{n}.{'json' if self.metric == 'vmaf' else 'txt'}"
            for n in range(len(distorted))
        ]
        graph = self._graph(len(distorted), logs)
        maps = [a for n in range(len(distorted)) for a in ("-map", f"[o{n}]", "-f", "null", "-")]
        proc = subprocess.run(
            [*cmd, "-filter_complex", graph, *maps], capture_output=True, text=True, check=False
        )
        if proc.returncode != 0:
            tail = proc.stderr.strip().splitlines()[-1:] or [f"exit {proc.returncode}"]
            raise MediaError("encode.failed", f"quality measurement failed: {tail[0]}")
        return [_frame_scores(log, self.metric, self.subsample) for log in logs]

    def _seek_at(self, span: Span) -> Fraction:
        """Where the source is read from: SOURCE_LEAD or more before the span (FFmpeg's `-ss`
        drops every frame before it, and the frame the encode's `fps` filter took for the
        span's first frame may lie before that frame's time), on a grid the seek shifts the
        source's timestamps by exactly, so that the `fps` filter after it rounds them as the
        encode's did (a source frame halfway between two output frames, every 24th of a
        24 fps source at 25, rounded the other way: a span scored one frame off)."""
        step = seek_step(self.fps, self.source_time_base)
        return max(Fraction(0), (span.scored_start - SOURCE_LEAD) // step * step)

    def _lead(self, span: Span) -> int:
        """Frames of the title's grid read before the span."""
        return round((span.scored_start - self._seek_at(span)) * self.fps)

    def _seek(self, span: Span) -> list[str]:
        start = self._seek_at(span)
        return ["-ss", f"{float(start):.6f}"] if start else []

    def _reference(self, span: Span) -> str:
        lead = self._lead(span)
        trim = f"trim=start_pts={lead}," if lead else ""
        return f"{self.reference_filter},{trim}"

    def _limit(self, span: Span, skipped: int) -> list[str]:
        """Read a little more than the span (the graph trims it to the exact frames): the
        decoder stops early instead of decoding a whole segment it will not score."""
        if span.frames is None:
            return []
        return ["-t", f"{float((skipped + span.frames + 2) / self.fps):.3f}"]

    def _skip(self, span: Span) -> str:
        """A rendition's span decodes from its segment's keyframe; the frames before the
        span's offset are dropped before the costly upscale."""
        return f"trim=start_frame={span.offset}," if span.offset else ""

    def _prepare(self, first: str, span: Span) -> str:
        width, height = self.size
        trim = f",trim=end_frame={span.frames}" if span.frames is not None else ""
        return (
            f"{first}scale={width}:{height}:flags=bicubic,setsar=1,format=yuv420p,"
            f"setpts=PTS-STARTPTS{trim}"
        )

    def _graph(self, renditions: int, logs: list[Path]) -> str:
        spans = len(self.spans)
        reference_input = renditions * spans
        graph = []
        for k, span in enumerate(self.spans):
            outs = "".join(f"[r{k}_{n}]" for n in range(renditions))
            graph.append(
                f"[{reference_input + k}:v]{self._prepare(self._reference(span), span)},"
                f"split={renditions}{outs}"
            )
        for n in range(renditions):
            pairs = ""
            for k, span in enumerate(self.spans):
                graph.append(
                    f"[{n * spans + k}:v]{self._prepare(self._skip(span), span)}[d{n}_{k}]"
                )
                pairs += f"[d{n}_{k}][r{k}_{n}]"
            distorted, reference = f"[d{n}_0]", f"[r0_{n}]"
            if spans > 1:
                graph.append(f"{pairs}concat=n={spans}:v=2:a=0[dj{n}][rj{n}]")
                distorted, reference = f"[dj{n}]", f"[rj{n}]"
            if self.metric == "psnr" and self.subsample > 1:
                # PSNR has no subsampling of its own, nor a temporal feature a selection
                # could skew: keep every n-th pair
                keep = f"select='not(mod(n\\,{self.subsample}))'"
                graph.append(f"{distorted}{keep}[ds{n}];{reference}{keep}[rs{n}]")
                distorted, reference = f"[ds{n}]", f"[rs{n}]"
            graph.append(f"{distorted}{reference}{self._measure(logs[n])}[o{n}]")
        return ";".join(graph)

    def _measure(self, log: Path) -> str:
        """libvmaf subsamples itself and still feeds every reference frame to its motion
        feature: a `select` before it would measure the motion between every n-th frame and
        score several points too high (measured: +5 on a 720p rung)."""
        if self.metric == "vmaf":
            return (
                f"libvmaf=log_fmt=json:log_path={_escape(log)}:n_subsample={self.subsample}"
                f":n_threads={self.threads}:shortest=1:ts_sync_mode=nearest"
            )
        return f"psnr=stats_file={_escape(log)}:shortest=1:ts_sync_mode=nearest"


def _frame_scores(log: Path, metric: Metric, subsample: int) -> list[tuple[int, float]]:
    """(frame number, VMAF) from a libvmaf JSON log, or (frame number, MSE) from a PSNR
    stats file (which numbers the frames left after the selection of every n-th)."""
    if metric == "vmaf":
        data = json.loads(log.read_text())
        return [
            (int(f["frameNum"]), float(f["metrics"]["vmaf"]))
            for f in data.get("frames", [])
            if "vmaf" in f["metrics"]
        ]
    scores = []
    for line in log.read_text().splitlines():
        fields = dict(item.split(":", 1) for item in line.split() if ":" in item)
        if "mse_avg" in fields:
            number = int(fields.get("n", len(scores) + 1)) - 1
            scores.append((number * subsample, float(fields["mse_avg"])))
    return scores


def _pool(values: list[float], metric: Metric) -> float:
    """Mean VMAF, or the PSNR of the mean squared error."""
    mean = sum(values) / len(values)
    return mean if metric == "vmaf" else _psnr(mean)


def _rung_quality(
    rendition: RenditionOutput, spans: list[Span], scored: list[tuple[int, float]], metric: Metric
) -> RungQuality:
    """A rendition's quality: the mean over every scored frame; the lowest span's mean as
    its minimum."""
    by_span: dict[int, list[float]] = {}
    for frame, value in scored:
        by_span.setdefault(span_of_frame(spans, frame), []).append(value)
    mean = _pool([v for _, v in scored], metric) if scored else None
    lowest = min((_pool(v, metric) for v in by_span.values()), default=None)
    return RungQuality(
        name=rendition.name,
        family=_family(rendition),
        width=rendition.width or 0,
        height=rendition.height or 0,
        average_kbps=round(rendition.average_bitrate / 1000, 1),
        peak_kbps=round(rendition.peak_bitrate / 1000, 1),
        vmaf=round(mean, 3) if mean is not None and metric == "vmaf" else None,
        vmaf_min=round(lowest, 3) if lowest is not None and metric == "vmaf" else None,
        psnr=round(mean, 3) if mean is not None and metric == "psnr" else None,
        metric=metric,
    )


# RFC 6381 sample entries of each family; a rendition recorded before families had none
_FAMILY_OF_ENTRY = {"avc1": "h264", "avc3": "h264", "hvc1": "hevc", "hev1": "hevc", "av01": "av1"}


def _family(rendition: RenditionOutput) -> str | None:
    if rendition.family is not None:
        return str(rendition.family.value)
    return _FAMILY_OF_ENTRY.get(rendition.codecs.split(".")[0])
