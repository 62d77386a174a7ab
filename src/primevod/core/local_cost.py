"""What a title costs on this machine before it is encoded: CPU-seconds per rung and bytes
stored, learnt from the jobs this machine ran.

CPU time and bytes depend on the picture as much as on the ladder (a slide show costs half a
test card, film grain half again as much), so the estimate starts from a sample: a few short
excerpts of the title encoded to every rung (`sample_spans`), their CPU-seconds and bytes
projected to the whole title. The past jobs' median of actual over projection corrects it for
what the sample leaves out (thumbnails, audio, the run's start-up). Without a sample, the
model falls back to the work of the ladder, output pixels weighed by the encoder's relative
cost (x264's preset, SVT-AV1, x265), at the past jobs' median CPU-seconds per megapixel.

The ladder is encoded in one FFmpeg run (one decode, every rung), so a rung's CPU time is not
measured alone: it is the run's CPU shared by the rungs' work.

    calibration = calibrate(records, preset="veryfast")
    estimate = estimate_local(ladder, duration, "veryfast", calibration, rates, sample)

Pure: no I/O."""

from __future__ import annotations

import statistics
from collections.abc import Iterable
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

from primevod.core.codec_families import CodecFamily, av1_preset_for
from primevod.core.ladder import Ladder, Rung

# x264's CPU time per pixel relative to `medium`, from its presets' usual speeds (1080p,
# one machine); the calibration corrects the level, these only weigh presets against each
# other when a machine has no record at the preset in use
PRESET_COST = {
    "ultrafast": 0.25,
    "superfast": 0.35,
    "veryfast": 0.45,
    "faster": 0.7,
    "fast": 0.85,
    "medium": 1.0,
    "slow": 1.6,
    "slower": 3.3,
    "veryslow": 6.7,
    "placebo": 20.0,
}
PRESET_ORDER = list(PRESET_COST)
# the other families per pixel, relative to x264 `medium`, single-threaded on one 720p clip
# (benchmarks/encoder_cost.py: SVT-AV1 0.90 at preset 8 and 0.54 at 9, the presets of the
# encode's small and large rungs; x265 at the x264 preset's name: 3.4-3.7x x264 at veryfast,
# 1.9x at medium, so 2.5x in between). Only the split per rung and the estimate without a
# sample use them: a sample encodes every family for real.
AV1_PRESET_COST = {8: 0.90, 9: 0.54}
X265_OVER_X264 = 2.5
# until this machine has a record of its own: the medians benchmarks/cost_local.py measured
# on the reference machine at veryfast (docs/cost.md)
DEFAULT_CPU_PER_MEGAPIXEL = 0.058  # CPU-seconds per medium-equivalent megapixel
DEFAULT_FILL = 0.67  # package bytes / bytes at the rungs' caps
DEFAULT_CPU_SCALE = 1.01  # actual CPU / the sample's projection
DEFAULT_BYTES_SCALE = 1.0  # actual bytes / the sample's projection
SAMPLES = 3  # excerpts, at 20, 50 and 80 % of the title
SAMPLE_SHARE = 0.05  # of the title, in all
# each; 1.5 s rather than 1 s halved the worst miss on 12 s titles (docs/cost.md)
SAMPLE_MIN_SECONDS, SAMPLE_MAX_SECONDS = 1.5, 4.0
# how far a sample's excerpt may move to start at a keyframe: half the 30 % between
# excerpts, so they stay spread over the title, and no further than sources' usual
# keyframe interval (which bounds what the search for one reads of a long title)
KEYFRAME_SHIFT = 0.15  # of the title
KEYFRAME_SHIFT_MAX_SECONDS = 10.0
RECENT = 50  # the records a calibration looks at, newest first
SECONDS_PER_HOUR = 3600
BYTES_PER_GB = 1e9


@dataclass(frozen=True)
class Sample:
    """The sample's CPU-seconds and video bytes projected to the whole title. The CPU is
    one run's start-up (every encoder's set-up, the first decode: what a run costs before
    its first frame, the same for a long title as for a short one) plus the steady rate
    times the title's length."""

    cpu_seconds: float
    video_bytes: int
    seconds: float  # of the title the sample encoded
    start_up_cpu_seconds: float = 0.0


@dataclass(frozen=True)
class EncodeRecord:
    """What one past job measured: its work (medium-equivalent megapixels), the CPU-seconds
    of its FFmpeg runs, its package's bytes, those bytes at the rungs' caps, and what its
    sample had projected (0: no sample)."""

    preset: str
    megapixels: float
    cpu_seconds: float
    package_bytes: int = 0
    bytes_at_caps: int = 0
    projected_cpu_seconds: float = 0.0
    projected_bytes: int = 0


@dataclass(frozen=True)
class Calibration:
    cpu_per_megapixel: float
    fill: float
    source: str  # what it was learnt from, for the printout
    cpu_scale: float = DEFAULT_CPU_SCALE
    bytes_scale: float = DEFAULT_BYTES_SCALE


@dataclass(frozen=True)
class LocalRates:
    """Dollars for the budget: what a CPU-hour and a GB-month cost the operator."""

    cpu_hour_usd: float
    storage_gb_month_usd: float


@dataclass(frozen=True)
class RungCost:
    name: str
    size: str
    megapixels: float
    cpu_seconds: float
    bytes: int


@dataclass(frozen=True)
class LocalEstimate:
    preset: str
    rungs: list[RungCost]
    cpu_seconds: float
    package_bytes: int
    encode_usd: float
    storage_usd_per_month: float
    calibration: Calibration
    notes: list[str] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        return {
            "preset": self.preset,
            "cpu_seconds": round(self.cpu_seconds, 2),
            "package_bytes": self.package_bytes,
            "total_usd": round(self.encode_usd, 6),
            "storage_usd_per_month": round(self.storage_usd_per_month, 6),
            "calibration": vars(self.calibration),
            "rungs": [
                {
                    **vars(r),
                    "megapixels": round(r.megapixels, 1),
                    "cpu_seconds": round(r.cpu_seconds, 2),
                }
                for r in self.rungs
            ],
            "notes": self.notes,
        }


def rung_preset(preset: str, rung: Rung) -> str:
    """The x264 preset a rung is encoded at (`preset_steps` slower than the encode's)."""
    if preset not in PRESET_ORDER:
        return preset
    return PRESET_ORDER[min(PRESET_ORDER.index(preset) + rung.preset_steps, len(PRESET_ORDER) - 1)]


def rung_megapixels(rung: Rung, duration: float, preset: str) -> float:
    """The rung's work: its pixels over the title, weighed by its encoder's cost."""
    frames = duration * float(Fraction(rung.frame_rate))
    return rung.pixels * frames / 1e6 * encoder_cost(rung, preset)


def encoder_cost(rung: Rung, preset: str) -> float:
    """CPU per pixel of the rung's encoder, relative to x264 `medium`."""
    if rung.codec is CodecFamily.AV1:
        return AV1_PRESET_COST[av1_preset_for(rung.pixels)]
    x264 = PRESET_COST.get(rung_preset(preset, rung), 1.0)
    return x264 * X265_OVER_X264 if rung.codec is CodecFamily.HEVC else x264


def work_megapixels(ladder: Ladder, duration: float, preset: str) -> float:
    return sum(rung_megapixels(r, duration, preset) for r in ladder.rungs)


def bytes_at_caps(ladder: Ladder, duration: float) -> int:
    """The package's size if every rung (and audio rendition) ran at its cap."""
    kbps = sum(r.max_bitrate_kbps for r in ladder.rungs) + sum(a.bitrate_kbps for a in ladder.audio)
    return int(kbps * 1000 / 8 * duration)


def sample_spans(
    duration: float, min_seconds: float = SAMPLE_MIN_SECONDS
) -> list[tuple[float, float]]:
    """The excerpts [start, end) a sample encodes: SAMPLES of them centred at 20, 50 and 80 %
    of the title (one excerpt misses a title's changes: a slide show's next slide, a film's
    next scene), SAMPLE_SHARE of it in all, each between `min_seconds` and the maximum
    (shorter excerpts show too little steady state to measure); a title too short for them
    is sampled whole."""
    each = min(max(duration * SAMPLE_SHARE / SAMPLES, min_seconds), SAMPLE_MAX_SECONDS)
    if duration <= each * SAMPLES * 2:
        return [(0.0, duration)]
    centres = [duration * share for share in (0.2, 0.5, 0.8)][:SAMPLES]
    return [(round(c - each / 2, 3), round(c + each / 2, 3)) for c in centres]


def keyframe_reach(duration: float) -> float:
    """How far a sample's excerpt may move to start at a keyframe."""
    return min(duration * KEYFRAME_SHIFT, KEYFRAME_SHIFT_MAX_SECONDS)


def keyframe_spans(
    spans: list[tuple[float, float]],
    keyframes: Iterable[float],
    duration: float,
    lead: float = 0.0,
) -> list[tuple[float, float]]:
    """The spans moved so that each starts `lead` seconds after a source keyframe (`lead`:
    what the encode decodes before a span's first frame), so that a sample run decodes
    nothing from an earlier keyframe. A span moves to the nearest keyframe not yet taken,
    by at most `keyframe_reach` (so the spans stay spread over the title), keeps its length
    and stays inside the title; a span with no such keyframe stays where it was (its runs
    decode from the keyframe before it, which the difference of the two runs cancels)."""
    points = sorted({round(k, 3) for k in keyframes if k >= 0})
    reach = keyframe_reach(duration)
    taken: set[float] = set()
    moved = []
    for start, end in spans:
        length = end - start
        fits = [
            k
            for k in points
            if k not in taken and k + lead + length <= duration and abs(k + lead - start) <= reach
        ]
        if not fits:
            moved.append((start, end))
            continue
        key = min(fits, key=lambda k: abs(k + lead - start))
        taken.add(key)
        moved.append((round(key + lead, 3), round(key + lead + length, 3)))
    return sorted(moved)


def calibrate(records: Iterable[EncodeRecord], preset: str) -> Calibration:
    """The machine's numbers: medians over its recent jobs at `preset`, else over all its
    recent jobs, else the defaults."""
    usable = [r for r in records if r.megapixels > 0 and r.cpu_seconds > 0][:RECENT]
    same = [r for r in usable if r.preset == preset]
    chosen = same or usable
    if not chosen:
        return Calibration(DEFAULT_CPU_PER_MEGAPIXEL, DEFAULT_FILL, "default (no job recorded)")
    sampled = [r for r in chosen if r.projected_cpu_seconds > 0]
    sized = [r for r in chosen if r.projected_bytes > 0]
    fills = [r.package_bytes / r.bytes_at_caps for r in chosen if r.bytes_at_caps > 0]
    where = f"at {preset}" if same else "at other presets"
    return Calibration(
        cpu_per_megapixel=statistics.median(r.cpu_seconds / r.megapixels for r in chosen),
        fill=statistics.median(fills) if fills else DEFAULT_FILL,
        source=f"median of {len(chosen)} jobs {where}",
        cpu_scale=statistics.median(r.cpu_seconds / r.projected_cpu_seconds for r in sampled)
        if sampled
        else DEFAULT_CPU_SCALE,
        bytes_scale=statistics.median(r.package_bytes / r.projected_bytes for r in sized)
        if sized
        else DEFAULT_BYTES_SCALE,
    )


def run_start_up(short_cpu: float, long_cpu: float, short_share: float) -> float:
    """A run's start-up CPU from two runs from the same point, the short one covering
    `short_share` of the long one's media: each is the start-up plus its media at one rate."""
    per_share = (long_cpu - short_cpu) / (1.0 - short_share)
    return short_cpu - per_share * short_share


def projected_package_bytes(ladder: Ladder, duration: float, sample: Sample) -> int:
    """The package a sample projects before calibration: its video, and the audio renditions
    at their bitrates (the sample encodes no audio)."""
    audio = sum(a.bitrate_kbps for a in ladder.audio) * 1000 / 8 * duration
    return int(sample.video_bytes + audio)


def estimate_local(
    ladder: Ladder,
    duration: float,
    preset: str,
    calibration: Calibration,
    rates: LocalRates,
    sample: Sample | None = None,
) -> LocalEstimate:
    """CPU-seconds and bytes per rung, and their dollars at `rates`: from the sample when
    there is one, else from the ladder's work."""
    works = [rung_megapixels(r, duration, preset) for r in ladder.rungs]
    total_work = sum(works) or 1.0
    if sample is not None:
        cpu = sample.cpu_seconds * calibration.cpu_scale
        package = int(projected_package_bytes(ladder, duration, sample) * calibration.bytes_scale)
        how = f"sampled {sample.seconds:.1f} s of the title; scale: {calibration.source}"
    else:
        cpu = total_work * calibration.cpu_per_megapixel
        package = int(bytes_at_caps(ladder, duration) * calibration.fill)
        how = f"no sample: the ladder's work at {calibration.source}"
    caps = sum(r.max_bitrate_kbps for r in ladder.rungs) or 1
    rungs = [
        RungCost(
            name=rung.name,
            size=f"{rung.width}x{rung.height}",
            megapixels=work,
            cpu_seconds=cpu * work / total_work,
            bytes=int(package * rung.max_bitrate_kbps / caps),
        )
        for rung, work in zip(ladder.rungs, works, strict=True)
    ]
    return LocalEstimate(
        preset=preset,
        rungs=rungs,
        cpu_seconds=cpu,
        package_bytes=package,
        encode_usd=cpu / SECONDS_PER_HOUR * rates.cpu_hour_usd,
        storage_usd_per_month=package / BYTES_PER_GB * rates.storage_gb_month_usd,
        calibration=calibration,
        notes=[how],
    )
