"""The budget at the API's door: a job is refused with 402 when the month's budget is spent
already, and only an admin may override it (the job's own estimate is checked later, once
the source is probed: the workflow's `budget` step)."""

from __future__ import annotations

from fastapi import HTTPException

from primevod.core.access import Principal
from primevod.core.budget import EXCEEDED
from primevod.pipeline import budget_guard
from primevod.pipeline.runtime import Runtime


def check_override(principal: Principal, override: bool) -> None:
    decision = principal.decide("budget:Override")
    if override and not decision.allowed:
        raise HTTPException(
            403, f"key {principal.key_id} may not override the budget (admin): {decision.reason}"
        )


def refuse_if_spent(rt: Runtime) -> None:
    decision = budget_guard.month_exhausted(rt)
    if decision is not None:
        raise HTTPException(402, f"{EXCEEDED}: {decision.message}")


def budget_metadata(
    rt: Runtime, principal: Principal, metadata: dict[str, str] | None, override: bool
) -> dict[str, str]:
    """The upload's metadata with the override flag set only by an admin's explicit ask."""
    check_override(principal, override)
    cleaned = {k: v for k, v in (metadata or {}).items() if k != budget_guard.OVERRIDE}
    if override:
        cleaned[budget_guard.OVERRIDE] = "true"
    else:
        refuse_if_spent(rt)
    return cleaned
