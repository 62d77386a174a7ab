"""Alarms (the CloudWatch Alarms role): a named series, a statistic over a period, compared
with a threshold over the last N periods, with a missing-data policy. Pure: the evaluator is
given the per-period values and the previous state and returns the new state and why."""

from __future__ import annotations

from enum import StrEnum
from typing import Literal

from pydantic import BaseModel, Field, model_validator

from primevod.core.metrics import MINUTE, SERIES, Window, aggregate, series_value


class AlarmState(StrEnum):
    OK = "OK"
    ALARM = "ALARM"
    INSUFFICIENT_DATA = "INSUFFICIENT_DATA"


class MissingData(StrEnum):
    MISSING = "missing"  # no data in any period -> INSUFFICIENT_DATA
    IGNORE = "ignore"  # keep the current state
    BREACHING = "breaching"
    NOT_BREACHING = "not_breaching"


COMPARISONS = {
    ">": lambda v, t: v > t,
    ">=": lambda v, t: v >= t,
    "<": lambda v, t: v < t,
    "<=": lambda v, t: v <= t,
}
Statistic = Literal["value", "sum", "average", "maximum", "minimum", "sample_count"]


class AlarmSpec(BaseModel):
    name: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,79}$")
    description: str = ""
    metric: str = Field(description="a named series (see docs/observability.md)")
    statistic: Statistic = Field(
        "value",
        description="value: the series over the whole period (sum for counts, the ratio or "
        "percentile for the others); sum/average/maximum/minimum/sample_count: over its "
        "1-minute values",
    )
    period_seconds: int = Field(300, ge=60)
    evaluation_periods: int = Field(1, ge=1, le=60)
    datapoints_to_alarm: int | None = Field(None, ge=1)
    threshold: float
    comparison: Literal[">", ">=", "<", "<="]
    missing_data: MissingData = MissingData.MISSING
    min_samples: int = Field(
        0, ge=0, description="a ratio or percentile on fewer observations counts as missing"
    )
    enabled: bool = True

    @model_validator(mode="after")
    def _check(self) -> AlarmSpec:
        if self.metric not in SERIES:
            known = ", ".join(sorted(SERIES))
            raise ValueError(f"unknown metric {self.metric!r} (known: {known})")
        if self.period_seconds % MINUTE:
            raise ValueError("period_seconds must be a whole number of minutes")
        if self.datapoints_to_alarm and self.datapoints_to_alarm > self.evaluation_periods:
            raise ValueError("datapoints_to_alarm cannot exceed evaluation_periods")
        return self

    @property
    def needed(self) -> int:
        return self.datapoints_to_alarm or self.evaluation_periods

    def describe(self) -> str:
        return (
            f"{self.metric} ({self.statistic}) {self.comparison} {self.threshold:g} "
            f"for {self.needed} of {self.evaluation_periods} period(s) of {self.period_seconds}s"
        )


class Evaluation(BaseModel):
    state: AlarmState
    reason: str
    values: list[float | None]


def period_values(spec: AlarmSpec, window: Window, now: float) -> list[float | None]:
    """The statistic for each of the last `evaluation_periods` periods, newest last. The
    newest period ends with the current minute (still filling), so an alarm reacts within
    one evaluation rather than after the minute closes."""
    end = int(now // MINUTE * MINUTE) + MINUTE
    values: list[float | None] = []
    for i in range(spec.evaluation_periods, 0, -1):
        t1 = end - (i - 1) * spec.period_seconds
        t0 = t1 - spec.period_seconds
        if spec.statistic == "value":
            values.append(series_value(spec.metric, window, t0, t1, spec.min_samples))
        else:
            per_minute = [
                series_value(spec.metric, window, t, t + MINUTE, spec.min_samples)
                for t in range(t0, t1, MINUTE)
            ]
            values.append(aggregate([v for v in per_minute if v is not None], spec.statistic))
    return values


def evaluate(
    spec: AlarmSpec, values: list[float | None], previous: AlarmState | None
) -> Evaluation:
    check = COMPARISONS[spec.comparison]
    present = [v for v in values if v is not None]
    shown = ", ".join("-" if v is None else f"{v:g}" for v in values)
    if not present:
        if spec.missing_data is MissingData.BREACHING:
            return Evaluation(
                state=AlarmState.ALARM,
                reason=f"no data [{shown}], treated as breaching",
                values=values,
            )
        if spec.missing_data is MissingData.NOT_BREACHING:
            return Evaluation(
                state=AlarmState.OK,
                reason=f"no data [{shown}], treated as not breaching",
                values=values,
            )
        if spec.missing_data is MissingData.IGNORE and previous is not None:
            return Evaluation(
                state=previous, reason=f"no data [{shown}], state kept", values=values
            )
        return Evaluation(
            state=AlarmState.INSUFFICIENT_DATA,
            reason=f"no data in the last {len(values)} period(s)",
            values=values,
        )
    breaching = sum(1 for v in present if check(v, spec.threshold))
    if spec.missing_data is MissingData.BREACHING:
        breaching += len(values) - len(present)
    if breaching >= spec.needed:
        state = AlarmState.ALARM
        verb = "crossed"
    else:
        state = AlarmState.OK
        verb = "did not cross"
    reason = (
        f"{breaching} of {len(values)} period(s) {verb} the threshold "
        f"({spec.metric} {spec.comparison} {spec.threshold:g}): [{shown}]"
    )
    return Evaluation(state=state, reason=reason, values=values)


DEFAULT_ALARMS: tuple[AlarmSpec, ...] = (
    AlarmSpec(
        name="workflow-failures",
        description="an asset workflow failed in the last 5 minutes (a refused source, "
        "source.*, counts in uploads_rejected, not here)",
        metric="workflows_failed",
        statistic="sum",
        period_seconds=300,
        threshold=0,
        comparison=">",
        missing_data=MissingData.NOT_BREACHING,
    ),
    AlarmSpec(
        name="delivery-5xx-rate",
        description="more than 1 % of edge requests answered 5xx over 5 minutes",
        metric="error_rate_5xx",
        period_seconds=300,
        threshold=0.01,
        comparison=">",
        missing_data=MissingData.NOT_BREACHING,
        min_samples=20,
    ),
    AlarmSpec(
        name="delivery-4xx-rate",
        description="more than 5 % of edge requests answered 4xx over 5 minutes",
        metric="error_rate_4xx",
        period_seconds=300,
        threshold=0.05,
        comparison=">",
        missing_data=MissingData.NOT_BREACHING,
        min_samples=20,
    ),
    AlarmSpec(
        name="cache-hit-ratio",
        description="edge cache hit ratio under 80 % over 15 minutes (judged from 1,000 "
        "viewer requests up: a lone viewer's first play is all misses)",
        metric="cache_hit_ratio",
        period_seconds=900,
        threshold=0.8,
        comparison="<",
        missing_data=MissingData.NOT_BREACHING,
        min_samples=1000,
    ),
    AlarmSpec(
        name="origin-latency-p95",
        description="95th percentile origin latency above 500 ms over 5 minutes",
        metric="origin_latency_p95_ms",
        period_seconds=300,
        threshold=500,
        comparison=">",
        missing_data=MissingData.NOT_BREACHING,
        min_samples=20,
    ),
    AlarmSpec(
        name="canary-failure",
        description="an HLS canary run failed in the last 10 minutes",
        metric="canary_failed",
        statistic="sum",
        period_seconds=600,
        threshold=0,
        comparison=">",
        missing_data=MissingData.NOT_BREACHING,
    ),
)


# on whenever a monthly budget is set (the AWS shape has AWS Budgets' own notifications)
BUDGET_ALARM = AlarmSpec(
    name="budget-threshold",
    description="the month's spend passed 80 % of the monthly budget",
    metric="budget_used_ratio",
    statistic="maximum",
    period_seconds=300,
    threshold=0.8,
    comparison=">=",
    missing_data=MissingData.IGNORE,
)
