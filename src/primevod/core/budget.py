"""The monthly budget (AWS Budgets' role, but enforcing): a job's estimate is added to the
month's spend before its encode starts; past 100 % it is refused, unless an admin overrides;
crossing 80 % is announced once.

    decision = decide(budget_usd=20.0, spent_usd=15.5, estimate_usd=0.9, override=False)
    decision.allowed, decision.crossed_threshold, decision.message

The month's spend is what the recorded jobs of the calendar month (UTC) cost: the actual of
a finished job, the estimate of a running one. Pure: no I/O."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

THRESHOLD = 0.8  # the share of the budget that raises `budget.threshold`
EXCEEDED = "budget.exceeded"


@dataclass(frozen=True)
class BudgetDecision:
    allowed: bool
    budget_usd: float | None  # None: no budget
    spent_usd: float  # the month before this job
    estimate_usd: float
    override: bool = False

    @property
    def after_usd(self) -> float:
        return self.spent_usd + self.estimate_usd

    @property
    def crossed_threshold(self) -> bool:
        """This job takes the month from under 80 % of the budget to 80 % or more."""
        if not self.allowed or not self.budget_usd:
            return False
        line = self.budget_usd * THRESHOLD
        return self.spent_usd < line <= self.after_usd

    @property
    def message(self) -> str:
        if self.budget_usd is None:
            return "no monthly budget"
        verdict = "within" if self.after_usd <= self.budget_usd else "over"
        text = (
            f"{usd(self.spent_usd)} spent this month + {usd(self.estimate_usd)} estimated "
            f"for this job = {usd(self.after_usd)}, {verdict} the monthly budget of "
            f"{usd(self.budget_usd)}"
        )
        if not self.allowed:
            return text + " (an admin may override)"
        return text + (" (admin override)" if self.override and verdict == "over" else "")

    def as_json(self) -> dict[str, object]:
        return {
            "allowed": self.allowed,
            "budget_usd": self.budget_usd,
            "spent_usd": round(self.spent_usd, 6),
            "estimate_usd": round(self.estimate_usd, 6),
            "override": self.override,
        }


def decide(
    *, budget_usd: float | None, spent_usd: float, estimate_usd: float, override: bool = False
) -> BudgetDecision:
    """Allowed when there is no budget, when the month stays within it, or on override."""
    within = budget_usd is None or spent_usd + estimate_usd <= budget_usd
    return BudgetDecision(within or override, budget_usd, spent_usd, estimate_usd, override)


def usd(value: float) -> str:
    """Dollars with the digits a small amount needs: $20.00, $0.1234, $0.00000025."""
    if value >= 1 or value == 0:
        return f"${value:,.2f}"
    if value >= 0.001:
        return f"${value:.4f}"
    return "$" + (f"{value:.10f}".rstrip("0") or "0")


def month_of(moment: datetime) -> str:
    """The budget month of a moment: `YYYY-MM` in UTC."""
    return moment.astimezone(UTC).strftime("%Y-%m")


def used_ratio(budget_usd: float | None, spent_usd: float) -> float | None:
    return None if not budget_usd else spent_usd / budget_usd
