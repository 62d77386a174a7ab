"""The complexity analysis's probe encodes: the samples encoded at the ladder's sizes and a
few CRFs in one FFmpeg run (with a lossless reference of the samples), then scored against
that reference in one more, each probe priced in kbps and quality."""

from __future__ import annotations

import subprocess
import tempfile
import time
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

from primevod.adapters.media.ffmpeg_binary import ffmpeg_exe
from primevod.adapters.media.ffmpeg_command import PRESETS, source_filters
from primevod.adapters.media.quality_meter import Comparison, compare
from primevod.adapters.media.quality_meter import reference_size as score_size
from primevod.core.codec_families import CodecFamily
from primevod.core.errors import MediaError
from primevod.core.family_reach import reach_probes
from primevod.core.ladder import (
    AutoLadderConfig,
    LadderPolicy,
    RateControl,
    RungTemplate,
    gop_seconds_for,
    plan_ladder,
)
from primevod.core.probe import ProbeResult, VideoStreamInfo
from primevod.core.quality import Metric, ProbePoint, probe_sizes

# bits per pixel and frame of the largest size at the highest probe CRF above which a
# "still" title is not cheap after all (grain or texture the scan cannot see): slides
# measure about 0.005, Big Buck Bunny 0.026
STILL_MAX_BPP = 0.012
PROBE_PRESET_FLOOR = "veryfast"  # probes never run slower than this

# SVT-AV1's probes: its fastest preset (SVT-AV1 4 maps 12 to 11); like x264's veryfast
# floor, the probes rank sizes and CRFs, and the slower final preset only saves more
AV1_PROBE_PRESET = 12
# a raw bitstream per family (no container: the probe's kbps is the video's alone)
PROBE_FORMAT: dict[CodecFamily, str] = {
    CodecFamily.H264: "h264",
    CodecFamily.HEVC: "hevc",
    CodecFamily.AV1: "obu",
}


@dataclass(frozen=True)
class Probe:
    """One probe encode: a family, a size and a CRF in the family's own scale."""

    family: CodecFamily
    width: int
    height: int
    crf: int


def probe_preset(preset: str) -> str:
    """The preset of the probe encodes: the encode's own, but no slower than `veryfast`
    (probes only rank resolutions and CRFs; a slower final preset only saves more)."""
    if preset not in PRESETS:
        return PROBE_PRESET_FLOOR
    return PRESETS[min(PRESETS.index(preset), PRESETS.index(PROBE_PRESET_FLOOR))]


def still_is_cheap(points: list[ProbePoint], fps: float) -> bool:
    """The largest probed size at the highest probe CRF costs at most `STILL_MAX_BPP`."""
    if not points:
        return False
    top = max(points, key=lambda p: (p.width * p.height, p.crf))
    return top.kbps * 1000 / (top.width * top.height * fps) <= STILL_MAX_BPP


def rung_sizes(probe: ProbeResult, config: AutoLadderConfig) -> list[tuple[int, int]]:
    """The sizes the probes run at: the planner's own fit of the source into each box, so
    that a probe prices exactly the picture a rung of that box would encode."""
    video = probe.primary_video
    assert video is not None
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
    return sorted({(r.width, r.height) for r in plan_ladder(probe, stand_in).rungs})


def run_probes(
    source: Path,
    probe: ProbeResult,
    config: AutoLadderConfig,
    *,
    fps: Fraction,
    preset: str,
    samples: list[tuple[float, float]],
    static: bool,
    metric: Metric,
    timing: dict[str, float],
    codecs: tuple[CodecFamily, ...] = (CodecFamily.H264,),
) -> tuple[list[ProbePoint], bool, list[ProbePoint]]:
    """Encode and score the probes of every family in `codecs`; returns their points,
    whether the title is still pictures after all (a costly "still" title is probed at
    every size) and the reach probes of the families that stayed under H.264."""
    video = probe.primary_video
    assert video is not None
    sizes = rung_sizes(probe, config)
    probed, skipped = sizes, []
    if static and len(sizes) > 2:
        # still pictures: the full size wins at every bitrate worth having; the smallest
        # size stays as the fallback for the bottom of the ladder
        probed, skipped = [sizes[0], sizes[-1]], sizes[1:-1]
    with tempfile.TemporaryDirectory(prefix="primevod-analysis-") as tmp:
        run = ProbeRun.plan(source, video, samples, fps, preset, Path(tmp), metric, timing)
        points = run.measure(probe_grid(probed, config, codecs), static=static)
        h264 = [p for p in points if p.codec is CodecFamily.H264]
        if static and skipped and not still_is_cheap(h264, float(fps)):
            # "still" by the scan, but the full picture is costly (grain, fine texture the
            # 32x18 scan cannot see): probe the sizes in between after all
            static = False
            points += run.measure(probe_grid(skipped, config, codecs), static=static)
        wanted = [Probe(*w) for w in reach_probes(points, config, codecs, metric)]
        reach = run.measure(wanted, static=static) if wanted else []
    return points, static, reach


def probe_grid(
    sizes: list[tuple[int, int]], config: AutoLadderConfig, codecs: tuple[CodecFamily, ...]
) -> list[Probe]:
    """Every size at each family's probe CRFs (the H.264 ones mapped to its scale)."""
    return [
        Probe(family, w, h, crf)
        for family in codecs
        for w, h in sizes
        for crf in config.for_family(family).probe_crfs
    ]


@dataclass
class ProbeRun:
    """The probe encodes of one analysis, written to `work`: the first FFmpeg run reads the
    samples from the source, a later one the lossless reference the first wrote."""

    work: Path
    ref_file: Path
    sample_inputs: list[str]  # FFmpeg inputs of the samples, one per sample
    samples_graph: str  # the samples, decoded and joined into `[cat]`
    fps: Fraction
    preset: str
    gop_frames: int
    seconds: float  # of all the samples together: the probes' kbps
    ref_size: tuple[int, int]
    metric: Metric
    timing: dict[str, float]
    measured: int = 0  # probes encoded so far: the next one's file number

    @classmethod
    def plan(
        cls,
        source: Path,
        video: VideoStreamInfo,
        samples: list[tuple[float, float]],
        fps: Fraction,
        preset: str,
        work: Path,
        metric: Metric,
        timing: dict[str, float],
    ) -> ProbeRun:
        pre = source_filters(video.scan_type == "interlaced", video.hdr_transfer, str(fps))
        frames = sum(max(1, round(d * float(fps))) for _, d in samples)
        sample_inputs: list[str] = []
        for start, length in samples:
            sample_inputs += ["-ss", f"{start:.3f}", "-t", f"{length:.3f}"]
            sample_inputs += ["-i", f"file:{source.absolute()}"]
        n = len(samples)
        joined = "".join(f"[{k}:{video.index}]{pre},setpts=PTS-STARTPTS[p{k}];" for k in range(n))
        concat = "".join(f"[p{k}]" for k in range(n)) + f"concat=n={n}:v=1:a=0[cat]"
        return cls(
            work=work,
            ref_file=work / "reference.mkv",
            sample_inputs=sample_inputs,
            samples_graph=joined + concat,
            fps=fps,
            preset=preset,
            gop_frames=max(1, round(float(fps) * gop_seconds_for(4.0))),
            seconds=frames / float(fps),
            ref_size=score_size(*video.display_size),
            metric=metric,
            timing=timing,
        )

    def probe_file(self, number: int, family: CodecFamily) -> Path:
        return self.work / f"probe{number}.{PROBE_FORMAT[family]}"

    def measure(self, outs: list[Probe], *, static: bool) -> list[ProbePoint]:
        """Encode and score `outs` after the probes measured so far."""
        first = self.measured
        self.encode(outs, first)
        self.measured += len(outs)
        return self.score(outs, first, static=static)

    def encode(self, outs: list[Probe], first: int) -> None:
        """One FFmpeg run: the probes `first`... from the samples, and the samples
        losslessly as the reference (exact, quick to decode, the same frames for every
        comparison); a later run reads that reference instead of the source."""
        cmd = [ffmpeg_exe(), "-hide_banner", "-nostdin", "-v", "error", "-y"]
        cmd += ["-protocol_whitelist", "file"]
        if first == 0:
            cmd += self.sample_inputs
            head = self.samples_graph
        else:
            cmd += ["-i", str(self.ref_file)]
            head = "[0:v]null[cat]"
        labels = "".join(f"[c{i}]" for i in range(len(outs))) + ("[ref]" if first == 0 else "")
        split = f"[cat]split={len(outs) + (first == 0)}{labels}"
        graph = [head, split]
        maps: list[str] = []
        for i, o in enumerate(outs):
            graph.append(
                f"[c{i}]scale={o.width}:{o.height}:flags=bicubic,setsar=1,format=yuv420p[e{i}]"
            )
            maps += ["-map", f"[e{i}]", *self.encoder_args(o)]
            maps += ["-f", PROBE_FORMAT[o.family], str(self.probe_file(first + i, o.family))]
        if first == 0:
            maps += ["-map", "[ref]", "-c:v", "libx264", "-preset", "ultrafast", "-qp", "0"]
            maps += ["-threads", "1", str(self.ref_file)]
        cmd += ["-filter_complex", ";".join(graph), *maps]
        t0 = time.monotonic()
        proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
        if proc.returncode != 0:
            tail = proc.stderr.strip().splitlines()[-1:] or [f"exit {proc.returncode}"]
            raise MediaError("encode.failed", f"probe encodes failed: {tail[0]}")
        self._add_time("probe_encodes", t0)

    def encoder_args(self, probe: Probe) -> list[str]:
        """One probe's encoder: single-threaded (the run encodes many probes side by side),
        a key frame per GOP and none at scene cuts, as the final encode has."""
        gop = str(self.gop_frames)
        if probe.family is CodecFamily.AV1:
            return [
                *("-c:v", "libsvtav1", "-preset", str(AV1_PROBE_PRESET), "-crf", str(probe.crf)),
                *("-g", gop, "-svtav1-params", "lp=1:scd=0"),
            ]
        if probe.family is CodecFamily.HEVC:
            params = f"keyint={gop}:min-keyint={gop}:scenecut=0:pools=1:frame-threads=1"
            params += ":log-level=error"
            return [
                *("-c:v", "libx265", "-preset", self.preset, "-crf", str(probe.crf)),
                *("-x265-params", params),
            ]
        return [
            *("-c:v", "libx264", "-preset", self.preset, "-threads", "1"),
            *("-crf", str(probe.crf), "-g", gop, "-keyint_min", gop, "-sc_threshold", "0"),
        ]

    def score(self, outs: list[Probe], first: int, *, static: bool) -> list[ProbePoint]:
        """The probes `first`... against the reference: quality, and kbps from file size."""
        files = [self.probe_file(first + i, o.family) for i, o in enumerate(outs)]
        comparisons = [
            Comparison(
                distorted=[
                    *("-f", PROBE_FORMAT[o.family], "-framerate", str(self.fps), "-i", str(f))
                ],
                reference=["-i", str(self.ref_file)],
                label=f"{o.family}-{o.width}x{o.height}@{o.crf}",
            )
            for f, o in zip(files, outs, strict=True)
        ]
        # about 6 scored frames per second; 2 when the pictures stand still
        subsample = max(1, round(float(self.fps) / (2 if static else 6)))
        t0 = time.monotonic()
        scores = compare(comparisons, self.ref_size, subsample=subsample, metric=self.metric)
        self._add_time("scores", t0)
        return [
            ProbePoint(
                width=o.width,
                height=o.height,
                crf=o.crf,
                kbps=round(f.stat().st_size * 8 / 1000 / self.seconds, 2),
                quality=score.mean,
                codec=o.family,
            )
            for f, o, score in zip(files, outs, scores, strict=True)
        ]

    def _add_time(self, phase: str, since: float) -> None:
        self.timing[phase] = self.timing.get(phase, 0.0) + time.monotonic() - since
