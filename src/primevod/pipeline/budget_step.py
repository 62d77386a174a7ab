"""The workflow's `budget` step, between ingest and process: the job's estimate, reserved
against the month's budget; past it, `budget.exceeded` before any encode (unless an admin
overrode it for this asset)."""

from __future__ import annotations

from primevod.core.budget import EXCEEDED, usd
from primevod.core.execution import StepOutcome
from primevod.core.probe import ProbeResult
from primevod.pipeline import budget_guard, costing
from primevod.pipeline.runtime import Runtime
from primevod.pipeline.step_runner import run_step
from primevod.pipeline.steps import source_path


def budget(rt: Runtime, asset_id: str, execution_id: str) -> StepOutcome:
    def body() -> StepOutcome:
        asset = rt.catalog.get_asset(asset_id)
        probe = ProbeResult.model_validate(asset.probe)
        planned = costing.estimate(
            rt,
            probe,
            costing.policy_of(rt, asset),
            rt.settings.cost_target,
            source_path(rt, asset_id, execution_id),
            asset.checksum,
        )
        decision = rt.costs.reserve(
            execution_id=execution_id,
            asset_id=asset_id,
            target=planned.target,
            estimate=planned.detail,
            estimate_usd=planned.usd,
            budget_usd=rt.settings.budget_monthly_usd,
            override=budget_guard.overridden(asset),
        )
        rt.catalog.update_asset(
            asset_id, cost={"estimate": planned.detail, "budget": decision.as_json()}
        )
        budget_guard.announce(rt, asset_id, decision)
        if not decision.allowed:
            return StepOutcome.failure(EXCEEDED, "budget", decision.message)
        return StepOutcome(note=f"{usd(planned.usd)} estimated ({planned.target})")

    return run_step(rt.catalog, "budget", asset_id, execution_id, body)
