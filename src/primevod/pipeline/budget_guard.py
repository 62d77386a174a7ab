"""The monthly budget around a job: whether the month is spent already (the API and the CLI
refuse before anything starts), an admin's override flag on an asset, the events a budget
decision sends, and the share-used gauge the `budget-threshold` alarm watches."""

from __future__ import annotations

from primevod.core.assets import Asset, Event, utcnow
from primevod.core.budget import BudgetDecision, decide, month_of
from primevod.observability import metrics
from primevod.pipeline.runtime import Runtime

OVERRIDE = "budget_override"  # the asset metadata flag an admin sets to pass the budget


def job_metadata(
    rt: Runtime, metadata: dict[str, str] | None, override: bool
) -> tuple[dict[str, str], BudgetDecision | None]:
    """A new job's metadata with the override flag only on an explicit ask (a client's own
    flag is dropped), and the refusal when there is no override and the month is spent."""
    cleaned = {k: v for k, v in (metadata or {}).items() if k != OVERRIDE}
    if override:
        return {**cleaned, OVERRIDE: "true"}, None
    return cleaned, month_exhausted(rt)


def overridden(asset: Asset) -> bool:
    return str(asset.metadata.get(OVERRIDE, "")).lower() == "true"


def month_exhausted(rt: Runtime) -> BudgetDecision | None:
    """The month's budget is spent already: a new job is refused whatever it costs (the
    API answers 402 before any upload or retry starts)."""
    limit = rt.settings.budget_monthly_usd
    if limit is None:
        return None
    spent = rt.costs.month_spend(month_of(utcnow()))
    decision = decide(budget_usd=limit, spent_usd=spent, estimate_usd=0.0)
    return decision if spent >= limit else None


def announce(rt: Runtime, asset_id: str, decision: BudgetDecision) -> None:
    """Events for subscribers: the month passing 80 %, a refusal, an override used."""
    data = {**decision.as_json(), "message": decision.message}
    if decision.crossed_threshold:
        rt.catalog.emit(Event(type="budget.threshold", asset_id=asset_id, data=data))
    if not decision.allowed:
        rt.catalog.emit(Event(type="budget.exceeded", asset_id=asset_id, data=data))
    elif decision.override and decision.after_usd > (decision.budget_usd or float("inf")):
        rt.catalog.emit(Event(type="budget.override", asset_id=asset_id, data=data))
    sample_budget(rt)


def sample_budget(rt: Runtime) -> float | None:
    """The month's share of the budget used, as a gauge (the `budget` alarm's metric)."""
    limit = rt.settings.budget_monthly_usd
    if not limit:
        return None
    ratio = rt.costs.month_spend(month_of(utcnow())) / limit
    metrics.set_gauge("primevod_budget_used_ratio", ratio)
    return ratio
