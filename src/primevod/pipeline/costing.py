"""A job's cost, before and after its encode, at the configured target's prices: the estimate
the `budget` step reserves between ingest and process, the actual once the package is
encoded. The local target learns from this machine's recorded jobs (core/local_cost.py); the
aws target prices the MediaConvert job the AWS shape would submit (core/cost.py)."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from primevod.core.assets import Asset
from primevod.core.codec_families import codecs_text
from primevod.core.errors import MediaError
from primevod.core.ladder import Ladder, LadderPolicy, plan_ladder
from primevod.core.local_cost import (
    LocalRates,
    Sample,
    bytes_at_caps,
    calibrate,
    estimate_local,
    projected_package_bytes,
    sample_spans,
    work_megapixels,
)
from primevod.core.outputs import EncodePlan, PackageResult
from primevod.core.policies import asset_policy
from primevod.core.probe import ProbeResult
from primevod.pipeline.budget_guard import sample_budget
from primevod.pipeline.runtime import Runtime
from primevod.ports.media import MediaEngine

log = logging.getLogger("primevod.pipeline")


@dataclass(frozen=True)
class Estimate:
    target: str
    usd: float
    detail: dict[str, Any]


def local_rates(rt: Runtime) -> LocalRates:
    s = rt.settings
    return LocalRates(s.cost_cpu_hour_usd, s.cost_storage_gb_month_usd)


def planned_ladder(rt: Runtime, probe: ProbeResult, policy: LadderPolicy) -> Ladder:
    """The ladder the encode would start from (for `auto`, the candidates before analysis:
    an upper bound)."""
    return plan_ladder(probe, policy, segment_seconds=rt.settings.segment_seconds)


def estimate(
    rt: Runtime,
    probe: ProbeResult,
    policy: LadderPolicy,
    target: str,
    source: Path | None = None,
    checksum: str | None = None,
) -> Estimate:
    """The job's cost at `target` with every codec family `policy` encodes; a local
    estimate samples `source` when given."""
    if target == "aws":
        return _estimate_aws(rt, probe, policy)
    duration = probe.duration or 0.0
    ladder, sampled = planned_ladder(rt, probe, policy), None
    if source is not None and rt.settings.cost_sample:
        plan = rt.media.plan(
            source,
            probe,
            policy,
            segment_seconds=rt.settings.segment_seconds,
            checksum=checksum,
            analysis_cache=rt.settings.home / "cache" / "analysis",
        )
        ladder, sampled = plan.ladder, sample(rt.media, source, probe, plan, rt.settings.work_dir)
    calibration = calibrate(rt.costs.encode_records(), rt.settings.preset)
    local = estimate_local(
        ladder, duration, rt.settings.preset, calibration, local_rates(rt), sampled
    )
    detail = {"target": "local", **_named(policy), "duration": duration, **local.as_json()}
    if sampled is not None:
        package = projected_package_bytes(ladder, duration, sampled)
        detail["sample"] = {**vars(sampled), "projected_bytes": package}
    return Estimate("local", local.encode_usd, detail)


def sample(
    media: MediaEngine, source: Path, probe: ProbeResult, plan: EncodePlan, work: Path
) -> Sample | None:
    """The title's sample (core/local_cost.sample_spans) encoded and projected; None when it
    cannot be sampled (the estimate then falls back to the ladder's work)."""
    if not plan.ladder.rungs or plan.duration <= 0:
        return None
    try:
        return media.sample_cost(source, probe, plan, sample_spans(plan.duration), work)
    except MediaError as exc:
        log.info("no cost sample of %s: %s", source.name, exc.message)
        return None


def _estimate_aws(rt: Runtime, probe: ProbeResult, policy: LadderPolicy) -> Estimate:
    from primevod.adapters.price_files import read_prices
    from primevod.core.cost import estimate_title

    result = estimate_title(
        probe, policy, read_prices(rt.settings.prices), segment_seconds=rt.settings.segment_seconds
    )
    detail = {"target": "aws", **_named(policy), "duration": probe.duration}
    detail.update(result.as_json())
    return Estimate("aws", result.total_usd, detail)


def _named(policy: LadderPolicy) -> dict[str, str]:
    return {"ladder": policy.name, "codecs": codecs_text(policy.codecs)}


def policy_of(rt: Runtime, asset: Asset) -> LadderPolicy:
    """The policy the asset's encode will use: its own ladder and codec families, else the
    deployment's (the estimate must price every family the encode makes)."""
    return asset_policy(asset.metadata, rt.settings.ladder, rt.settings.codecs)


# -- the actual ------------------------------------------------------------------------------
def record_actual(
    rt: Runtime, asset_id: str, execution_id: str, result: PackageResult, cpu_seconds: float
) -> None:
    """What the encode took: CPU-seconds (all its FFmpeg runs), bytes and minutes by rung,
    priced at the job's target; the asset keeps it beside its estimate."""
    preset = rt.settings.preset
    duration = result.duration
    actual = {
        "preset": preset,
        "duration": duration,
        "cpu_seconds": round(cpu_seconds, 3),
        "megapixels": round(work_megapixels(result.ladder, duration, preset), 3),
        "package_bytes": result.total_bytes,
        "bytes_at_caps": bytes_at_caps(result.ladder, duration),
        "rungs": [
            {"name": r.name, "minutes": round(duration / 60, 4), "bytes": r.bytes}
            for r in result.renditions
        ],
    }
    rates = local_rates(rt)
    usd = cpu_seconds / 3600 * rates.cpu_hour_usd
    asset = rt.catalog.get_asset(asset_id)
    cost = dict(asset.cost or {})
    sampled = (cost.get("estimate") or {}).get("sample") or {}
    actual["projected_cpu_seconds"] = float(sampled.get("cpu_seconds", 0.0))
    actual["projected_bytes"] = int(sampled.get("projected_bytes", 0))
    if rt.settings.cost_target == "aws":
        usd = float((cost.get("estimate") or {}).get("total_usd", 0.0))
    actual["usd"] = round(usd, 6)
    storage = result.total_bytes / 1e9 * rates.storage_gb_month_usd
    actual["storage_usd_per_month"] = round(storage, 6)
    rt.costs.record_actual(execution_id, actual, usd)
    rt.catalog.update_asset(asset_id, cost={**cost, "actual": actual})
    sample_budget(rt)
