"""The synthetic HLS canary's result: what one run of the output validator against a served
package found, plus the requests it made. Pure: built from a ValidationReport and the
request log; the fetching lives in the adapters."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

from primevod.core.outputs import ValidationReport

USER_AGENT = "primevod-canary"  # the edge leaves this traffic out of its hit ratio


class RequestRecord(BaseModel):
    """One HTTP request the canary made (signing parameters never appear in `url`)."""

    method: str
    url: str
    status: int | None = Field(None, description="HTTP status; None when no answer came")
    ms: float = Field(description="time to the full answer, retries included")
    bytes: int = Field(0, description="body bytes received, retries and redirects included")
    attempts: int = 1
    error: str | None = None


class FailedRule(BaseModel):
    rule: str
    target: str
    message: str


class CanaryResult(BaseModel):
    url: str = Field(description="the master playlist checked, without signing parameters")
    passed: bool
    started_at: datetime = Field(description="UTC")
    duration_ms: float
    checked: int = Field(description="rules evaluated")
    failed: list[FailedRule] = Field(default_factory=list)
    warnings: int = 0
    requests: int = Field(0, description="HTTP requests made")
    bytes: int = Field(0, description="body bytes received")
    http_errors: int = Field(0, description="requests answered >= 400 or not answered")
    slowest_ms: float = 0.0
    error: str | None = Field(None, description="why the canary itself could not run")
    request_log: list[RequestRecord] = Field(default_factory=list)


def canary_result(
    url: str,
    report: ValidationReport,
    *,
    started_at: datetime,
    duration_ms: float,
    requests: list[RequestRecord],
    error: str | None = None,
) -> CanaryResult:
    """Healthy means: the validator ran, checked something, and no error-severity rule
    failed (warnings are counted, not failed)."""
    summary = report.summary()
    failed = [FailedRule(rule=r.rule, target=r.target, message=r.message) for r in report.failures]
    return CanaryResult(
        url=url,
        passed=error is None and report.passed and summary["checked"] > 0,
        started_at=started_at,
        duration_ms=round(duration_ms, 1),
        checked=summary["checked"],
        failed=failed,
        warnings=summary["warnings"],
        requests=len(requests),
        bytes=sum(r.bytes for r in requests),
        http_errors=sum(1 for r in requests if r.status is None or r.status >= 400),
        slowest_ms=max((r.ms for r in requests), default=0.0),
        error=error,
        request_log=requests,
    )
