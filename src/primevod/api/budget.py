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


def budget_metadata(
    rt: Runtime, principal: Principal, metadata: dict[str, str] | None, override: bool
) -> dict[str, str]:
    """The upload's metadata with the override flag set only by an admin's explicit ask;
    402 when the month is spent and there is none."""
    check_override(principal, override)
    cleaned, spent = budget_guard.job_metadata(rt, metadata, override)
    if spent is not None:
        raise HTTPException(402, f"{EXCEEDED}: {spent.message}")
    return cleaned
