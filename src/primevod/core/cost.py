"""What a title costs on AWS before it is encoded: the MediaConvert job the AWS shape would
submit (core/mediaconvert.py), priced output by output from a dated price file
(core/prices.py), plus keeping and serving the package.

MediaConvert bills each output's minutes times multipliers (picture size class, frame rate,
quality mode, codec) at its tier's rate. The tier is the job's: Basic only when every output
is a Basic one (Basic codecs, single-pass quality, no Automated ABR, no acceleration); one
Professional feature makes every output Professional. An Automated ABR group is billed for
each rendition MediaConvert writes, at multi-pass HQ: the estimate takes the renditions of
the project's own plan of the title (the ladder the job was built from).

    estimate = estimate_job(job.request, job.ladder, probe.duration, prices)
    estimate.total_usd, [(line.output, line.usd) for line in estimate.lines]

Pure: no I/O."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

from primevod.core.aws_names import EXAMPLE_ROLE_ARN
from primevod.core.ladder import Ladder, LadderPolicy
from primevod.core.local_cost import bytes_at_caps
from primevod.core.mediaconvert import create_job_request
from primevod.core.prices import MediaConvertPrices, Prices, VolumeTier
from primevod.core.probe import ProbeResult

JsonDict = dict[str, Any]
AUTOMATED_QUALITY = "MULTI_PASS_HQ"


@dataclass(frozen=True)
class CostLine:
    output: str
    kind: str  # video, audio, frame-capture
    minutes: float
    multiplier: float
    usd: float | None  # None: no price known for it
    detail: str = ""


@dataclass(frozen=True)
class JobEstimate:
    tier: str
    lines: list[CostLine]
    total_usd: float
    package_bytes_at_caps: int
    storage_usd_per_month: float
    egress_usd_per_viewing_hour: float
    notes: list[str] = field(default_factory=list)

    def as_json(self) -> JsonDict:
        return {
            "tier": self.tier,
            "total_usd": round(self.total_usd, 6),
            "lines": [
                {**vars(line), "usd": None if line.usd is None else round(line.usd, 6)}
                for line in self.lines
            ],
            "package_bytes_at_caps": self.package_bytes_at_caps,
            "storage_usd_per_month": round(self.storage_usd_per_month, 5),
            "egress_usd_per_viewing_hour": round(self.egress_usd_per_viewing_hour, 4),
            "notes": self.notes,
        }


@dataclass(frozen=True)
class _VideoOutput:
    name: str
    width: int
    height: int
    fps: float
    quality: str
    codec: str


def estimate_job(
    request: JsonDict, ladder: Ladder, duration: float, prices: Prices, used_minutes: float = 0
) -> JobEstimate:
    """The job's cost at `prices`, `used_minutes` normalized minutes into the month's tiers."""
    mc = prices.mediaconvert
    videos = list(_video_outputs(request, ladder))
    audio = list(_audio_outputs(request))
    captures = list(_frame_captures(request))
    tier = _tier(request, videos, mc)
    minutes = max(duration, mc.minimum_billed_seconds) / 60
    rate = _rate(mc.tiers[tier], used_minutes)
    lines = [_video_line(v, minutes, rate, mc) for v in videos]
    lines += [
        CostLine(name, "audio", minutes, 1.0, minutes * mc.audio_usd_per_minute) for name in audio
    ]
    capture_price = mc.frame_capture_usd_per_minute
    lines += [
        CostLine(
            name,
            "frame-capture",
            minutes,
            1.0,
            None if capture_price is None else minutes * capture_price,
        )
        for name in captures
    ]
    notes = [
        f"{tier} tier at ${rate}/normalized minute ({prices.region}, prices as of {prices.as_of})"
    ]
    if captures and capture_price is None:
        notes.append("frame-capture outputs: no price known, not counted")
    caps = bytes_at_caps(ladder, duration)  # an upper bound: capped rungs spend less
    return JobEstimate(
        tier=tier,
        lines=lines,
        total_usd=sum(line.usd or 0.0 for line in lines),
        package_bytes_at_caps=caps,
        storage_usd_per_month=caps / 1e9 * prices.s3.storage_usd_per_gb_month["STANDARD"],
        egress_usd_per_viewing_hour=_top_rung_gb_per_hour(ladder)
        * prices.cloudfront.egress_usd_per_gb[0].usd_per_gb,
        notes=notes,
    )


def estimate_title(
    probe: ProbeResult,
    policy: LadderPolicy,
    prices: Prices,
    *,
    segment_seconds: float | None = None,
) -> JobEstimate:
    """What the title would cost on MediaConvert: the job the AWS shape would submit for it
    (placeholder role and locations: they do not change the price), priced."""
    job = create_job_request(
        probe,
        policy,
        role_arn=EXAMPLE_ROLE_ARN,
        input_url="s3://source/uploads/estimate/source.mp4",
        destination="s3://destination/assets/estimate/1/",
        segment_seconds=segment_seconds,
    )
    return estimate_job(job.request, job.ladder, probe.duration or 0.0, prices)


def _groups(request: JsonDict) -> list[JsonDict]:
    return list(request.get("Settings", {}).get("OutputGroups", []))


def _codec_settings(output: JsonDict) -> tuple[str, JsonDict]:
    codec = output.get("VideoDescription", {}).get("CodecSettings", {})
    name = str(codec.get("Codec", ""))
    settings = next((v for k, v in codec.items() if k.endswith("Settings")), {})
    return name, settings


def _fps(settings: JsonDict, ladder: Ladder) -> float:
    if settings.get("FramerateNumerator") and settings.get("FramerateDenominator"):
        return settings["FramerateNumerator"] / settings["FramerateDenominator"]
    return float(Fraction(ladder.frame_rate or "30"))


def _video_outputs(request: JsonDict, ladder: Ladder) -> Iterator[_VideoOutput]:
    for group in _groups(request):
        for output in group.get("Outputs", []):
            codec, settings = _codec_settings(output)
            if not codec or codec == "FRAME_CAPTURE":
                continue
            if "AutomatedEncodingSettings" in group:  # one base output, many renditions
                for rung in ladder.rungs:
                    fps = float(Fraction(rung.frame_rate))
                    yield _VideoOutput(
                        rung.name, rung.width, rung.height, fps, AUTOMATED_QUALITY, codec
                    )
                continue
            description = output["VideoDescription"]
            yield _VideoOutput(
                name=str(output.get("NameModifier", "video")).lstrip("_"),
                width=int(description.get("Width", 0)),
                height=int(description.get("Height", 0)),
                fps=_fps(settings, ladder),
                quality=str(settings.get("QualityTuningLevel", "SINGLE_PASS")),
                codec=codec,
            )


def _audio_outputs(request: JsonDict) -> Iterator[str]:
    for group in _groups(request):
        for output in group.get("Outputs", []):
            if "VideoDescription" not in output and output.get("AudioDescriptions"):
                yield str(output.get("NameModifier", "audio")).lstrip("_")


def _frame_captures(request: JsonDict) -> Iterator[str]:
    for group in _groups(request):
        for output in group.get("Outputs", []):
            if _codec_settings(output)[0] == "FRAME_CAPTURE":
                yield str(output.get("NameModifier", "thumbnails")).lstrip("_")


def _tier(request: JsonDict, videos: list[_VideoOutput], mc: MediaConvertPrices) -> str:
    accelerated = request.get("AccelerationSettings", {}).get("Mode", "DISABLED") != "DISABLED"
    automated = any("AutomatedEncodingSettings" in g for g in _groups(request))
    basic = all(v.codec in mc.basic_codecs and v.quality in mc.basic_quality_levels for v in videos)
    return "basic" if basic and not automated and not accelerated else "professional"


def _rate(tiers: list[VolumeTier], used_minutes: float) -> float:
    """The rate of the tier the month's usage is in (the job is priced at it whole)."""
    for tier in tiers:
        if tier.up_to_minutes is None or used_minutes < tier.up_to_minutes:
            return tier.usd_per_minute
    return tiers[-1].usd_per_minute


def _video_line(v: _VideoOutput, minutes: float, rate: float, mc: MediaConvertPrices) -> CostLine:
    lines = min(v.width, v.height) if v.width and v.height else v.height
    size = next(c for c in mc.size_classes if c.below_lines is None or lines < c.below_lines)
    fps = next(f for f in mc.frame_rates if f.up_to_fps is None or v.fps <= f.up_to_fps + 0.01)
    multiplier = (
        size.multiplier
        * fps.multiplier
        * mc.quality_multipliers.get(v.quality, 1.0)
        * mc.codec_multipliers.get(v.codec, 1.0)
    )
    detail = f"{v.width}x{v.height} {size.name} {v.fps:.3g} fps {v.codec} {v.quality}"
    return CostLine(v.name, "video", minutes, multiplier, minutes * multiplier * rate, detail)


def _top_rung_gb_per_hour(ladder: Ladder) -> float:
    top = max((r.max_bitrate_kbps for r in ladder.rungs), default=0)
    audio = max((a.bitrate_kbps for a in ladder.audio), default=0)
    return (top + audio) * 1000 / 8 * 3600 / 1e9
