"""The quality step, between process and publish: VMAF of every rung against the source on a
few segments spread over the title (the same ones in every rung), recorded on the asset and
in its execution history; a top rung under its target warns or fails, as configured. It
reads the staged package from the object store, so it runs on any worker."""

from __future__ import annotations

import time

from primevod.adapters.media.quality_meter import measure_renditions
from primevod.core.errors import MediaError
from primevod.core.execution import StagedPackage, StepOutcome
from primevod.core.ladder import AutoLadderConfig
from primevod.core.probe import ProbeResult
from primevod.core.quality import QualityReport, RungQuality, target_quality, verdict_by_family
from primevod.core.quality_sampling import QualitySampling
from primevod.pipeline import content_protection, package_store
from primevod.pipeline.runtime import Runtime
from primevod.pipeline.step_runner import run_step
from primevod.pipeline.steps import source_path


def _measure(
    rt: Runtime, asset_id: str, execution_id: str, staged: StagedPackage
) -> list[RungQuality]:
    asset = rt.catalog.get_asset(asset_id)
    source = source_path(rt, asset_id, execution_id)
    probe = ProbeResult.model_validate(asset.probe) if asset.probe else rt.media.probe(source)
    with (
        package_store.local_copy(rt.store, staged, rt.settings.home / "tmp") as stored,
        content_protection.readable(rt, asset_id, stored) as result,  # encrypted: a clear copy
    ):
        return measure_renditions(result, source, probe, _sampling(rt))


def _sampling(rt: Runtime) -> QualitySampling:
    settings = rt.settings
    return QualitySampling(
        scope=settings.quality_scope,
        spans=settings.quality_segments,
        span_seconds=settings.quality_span_seconds or None,
        subsample=1 if settings.quality_scope == "full" else settings.quality_subsample,
    )


def _report(rt: Runtime, rungs: list[RungQuality], seconds: float) -> QualityReport:
    metric = rungs[-1].metric
    target = rt.settings.quality_target_vmaf
    if metric != "vmaf":  # PSNR fallback: the VMAF target converted to dB
        target = target_quality(AutoLadderConfig(target_vmaf=target), metric)[0]
    top, passed, message = verdict_by_family(rungs, target, metric)
    sampling = _sampling(rt)
    return QualityReport(
        metric=metric,
        target=target,
        mode=rt.settings.quality_check,
        rungs=rungs,
        top_quality=top,
        passed=passed,
        message=message,
        sampled_segments=sampling.spans,
        sampling=sampling,
        seconds=round(seconds, 3),
    )


def quality(rt: Runtime, asset_id: str, execution_id: str, staged: StagedPackage) -> StepOutcome:
    mode = rt.settings.quality_check
    if mode == "off":
        return StepOutcome(skipped=True)

    def body() -> StepOutcome:
        started = time.monotonic()
        rungs = _measure(rt, asset_id, execution_id, staged)
        if not rungs:  # audio-only: nothing to score
            return StepOutcome(skipped=True)
        report = _report(rt, rungs, time.monotonic() - started)
        asset = rt.catalog.get_asset(asset_id)
        rt.catalog.update_asset(
            asset_id,
            quality=report.model_dump(mode="json"),
            timings={**asset.timings, "quality": report.seconds},
        )
        if report.passed:
            return StepOutcome(passed=True)
        if mode == "warn":
            return StepOutcome(passed=False, note=f"warning: {report.message}")
        return StepOutcome.failure("quality.below_target", "quality", report.message)

    def on_media_error(exc: MediaError) -> StepOutcome | None:
        return None if mode == "fail" else StepOutcome(passed=None)  # unmeasured: warn only

    return run_step(
        rt.catalog, "quality", asset_id, execution_id, body, on_media_error=on_media_error
    )
