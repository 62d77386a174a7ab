"""The quality check's record and verdict: per-rung scores against the source, and the target
the top rung must reach in the metric the analysis could use."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from primevod.core.ladder import AutoLadderConfig

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
        config.min_vmaf_step * _PSNR_PER_VMAF,
    )


class RungQuality(BaseModel):
    name: str
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
    seconds: float


def verdict(top: float | None, target: float, metric: Metric) -> tuple[bool, str]:
    if top is None:
        return False, "no video rung was measured"
    unit = "VMAF" if metric == "vmaf" else "dB PSNR"
    if top + 1e-9 >= target:
        return True, f"top rung {top:.2f} {unit} meets the target {target:g}"
    return False, f"top rung {top:.2f} {unit} is below the target {target:g}"
