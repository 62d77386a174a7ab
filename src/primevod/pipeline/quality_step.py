"""The quality step, between process and publish: VMAF of every rung against the source on a
few segments spread over the title (the same ones in every rung), recorded on the asset and
in its execution history; a top rung under its target warns or fails, as configured."""

from __future__ import annotations

import time
from typing import Any

from primevod.adapters.media.quality_meter import measure_package
from primevod.core.assets import AssetError
from primevod.core.errors import MediaError
from primevod.core.ladder import AutoLadderConfig
from primevod.core.outputs import PackageResult
from primevod.core.probe import ProbeResult
from primevod.core.quality import QualityReport, target_quality, verdict
from primevod.pipeline import steps
from primevod.pipeline.runtime import runtime


def quality(asset_id: str, execution_id: str) -> dict[str, Any]:
    rt = runtime()
    mode = rt.settings.quality_check
    if mode == "off":
        return {"ok": True, "skipped": True}
    started = time.monotonic()
    step = rt.catalog.step_started(execution_id, "quality")
    try:
        base = steps.work_dir(asset_id, execution_id)
        result = PackageResult.model_validate_json((base / "result.json").read_text())
        asset = rt.catalog.get_asset(asset_id)
        source = steps._source_path(asset_id, execution_id)
        probe = ProbeResult.model_validate(asset.probe) if asset.probe else rt.media.probe(source)
        rungs = measure_package(
            result,
            source,
            probe,
            segments=rt.settings.quality_segments,
            subsample=rt.settings.quality_subsample,
        )
        if not rungs:  # audio-only: nothing to score
            rt.catalog.step_finished(step, "succeeded")
            return {"ok": True, "skipped": True}
        metric = rungs[-1].metric
        target = rt.settings.quality_target_vmaf
        if metric != "vmaf":  # PSNR fallback: the VMAF target converted to dB
            target = target_quality(AutoLadderConfig(target_vmaf=target), metric)[0]
        top = rungs[-1].vmaf if metric == "vmaf" else rungs[-1].psnr
        passed, message = verdict(top, target, metric)
        sampled = rt.settings.quality_segments
        report = QualityReport(
            metric=metric,
            target=target,
            mode=mode,
            rungs=rungs,
            top_quality=top,
            passed=passed,
            message=message,
            sampled_segments=sampled,
            seconds=round(time.monotonic() - started, 3),
        )
        rt.catalog.update_asset(
            asset_id,
            quality=report.model_dump(mode="json"),
            timings={**asset.timings, "quality": report.seconds},
        )
    except MediaError as exc:
        rt.catalog.step_finished(step, "failed", f"{exc.code}: {exc.message}")
        if mode == "fail":
            raise
        return {"ok": True, "passed": None}
    except Exception as exc:
        rt.catalog.step_finished(step, "failed", f"{type(exc).__name__}: {exc}")
        raise
    if passed:
        rt.catalog.step_finished(step, "succeeded")
        return {"ok": True, "passed": True}
    if mode == "warn":
        rt.catalog.step_finished(step, "succeeded", f"warning: {message}")
        return {"ok": True, "passed": False}
    rt.catalog.step_finished(step, "failed", f"quality.below_target: {message}")
    error = AssetError(code="quality.below_target", step="quality", message=message)
    return {"ok": False, "error": error.model_dump()}
