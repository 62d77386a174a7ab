"""The quality check's record and verdict: per-rung scores against the source, and the target
the top rung must reach in the metric the analysis could use."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from primevod.core.ladder import AutoLadderConfig
from primevod.core.quality_sampling import QualitySampling

Metric = Literal["vmaf", "psnr"]
# Without libvmaf the analysis falls back to PSNR (dB); targets and steps are converted with
# this rough rule (VMAF 95 ~ 42 dB, one VMAF point ~ 0.25 dB on typical 8-bit content).
_PSNR_AT_VMAF_95 = 42.0
_PSNR_PER_VMAF = 0.25


def target_quality(config: AutoLadderConfig, metric: Metric) -> tuple[float, float]:
    """(top-rung target, minimal step between rungs) in the metric's own unit."""
    if metric == "vmaf":
        return config.target_vmaf, config.min_vmaf_step
    return (
        _PSNR_AT_VMAF_95 + (config.target_vmaf - 95.0) * _PSNR_PER_VMAF,
        in_metric(config.min_vmaf_step, metric),
    )


def in_metric(vmaf_points: float, metric: Metric) -> float:
    """A difference of `vmaf_points` VMAF in the metric's own unit."""
    return vmaf_points if metric == "vmaf" else vmaf_points * _PSNR_PER_VMAF


class RungQuality(BaseModel):
    name: str
    family: str | None = Field(None, description="codec family (h264, hevc, av1)")
    width: int
    height: int
    average_kbps: float
    peak_kbps: float
    vmaf: float | None = None
    vmaf_min: float | None = Field(None, description="lowest sampled segment's mean VMAF")
    psnr: float | None = None
    metric: Metric = "vmaf"


class QualityReport(BaseModel):
    """The quality step's record: per-rung scores against the source and the verdict."""

    metric: Metric
    target: float
    mode: Literal["off", "warn", "fail"]
    rungs: list[RungQuality]
    top_quality: float | None
    passed: bool
    message: str
    sampled_segments: int
    sampling: QualitySampling | None = Field(None, description="which frames were scored")
    seconds: float


def verdict(top: float | None, target: float, metric: Metric) -> tuple[bool, str]:
    if top is None:
        return False, "no video rung was measured"
    unit = "VMAF" if metric == "vmaf" else "dB PSNR"
    if top + 1e-9 >= target:
        return True, f"top rung {top:.2f} {unit} meets the target {target:g}"
    return False, f"top rung {top:.2f} {unit} is below the target {target:g}"


def family_tops(rungs: list[RungQuality]) -> dict[str, RungQuality]:
    """The top rung of each codec family (the richest by average bitrate); rungs without a
    family are H.264's, as every ladder was before families."""
    tops: dict[str, RungQuality] = {}
    for rung in rungs:
        family = rung.family or "h264"
        if family not in tops or rung.average_kbps > tops[family].average_kbps:
            tops[family] = rung
    return tops


def verdict_by_family(
    rungs: list[RungQuality], target: float, metric: Metric
) -> tuple[float | None, bool, str]:
    """(lowest top-rung quality, passed, message): the top rung of every family must reach
    the target, since a device receives only one family's ladder."""
    tops = family_tops(rungs)
    if not tops:
        return None, *verdict(None, target, metric)
    scores = {f: (r.vmaf if metric == "vmaf" else r.psnr) for f, r in tops.items()}
    unmeasured = [f for f, score in scores.items() if score is None]
    worst = unmeasured[0] if unmeasured else min(scores, key=lambda f: scores[f] or 0.0)
    passed, message = verdict(scores[worst], target, metric)
    if len(tops) > 1:
        message = f"{worst}: {message}"
    return scores[worst], passed, message
