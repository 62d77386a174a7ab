"""The lifecycle workflow: once a day (`lifecycle_cron`) and at a day's first start of a
server or worker, it applies the lifecycle rules to the local store (pipeline/lifecycle.py)
and prunes every history past its retention (pipeline/retention.py).

It reads the lifecycle document afresh on each run. When the document does not load, the run
deletes nothing at all (no object, no row, no file): it logs the error with the line or
field, counts `primevod_lifecycle_runs_total{result="refused"}` (the `lifecycle_refused`
series an alarm can watch) and waits for the next run."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from typing import Any

from dbos import DBOS, SetWorkflowID

from primevod.core.lifecycle import LifecycleError
from primevod.observability import metrics
from primevod.pipeline.lifecycle import (
    LifecycleUnsupported,
    apply_plan,
    plan_actions,
    read_rules,
)
from primevod.pipeline.retention import prune_history, prune_workflow_records
from primevod.pipeline.runtime import Runtime, runtime

log = logging.getLogger("primevod.lifecycle")
SCHEDULE = "primevod-lifecycle"
RUNS = "primevod_lifecycle_runs_total"


def run_lifecycle(rt: Runtime, now: datetime) -> dict[str, Any]:
    """One run at `now`: the rules, then retention. Returns what it did."""
    try:
        config, document = read_rules(rt.settings)
    except LifecycleError as exc:
        metrics.inc(RUNS, result="refused")
        log.error("lifecycle.invalid: %s; nothing was deleted", exc)
        return {"result": "refused", "error": f"lifecycle.invalid: {exc}"}
    report: dict[str, Any] = {"document": document, "as_of": now.isoformat()}
    try:
        plan = plan_actions(rt, config, as_of=now, document=document)
    except LifecycleUnsupported as exc:
        report.update(result="skipped", reason=str(exc))
    else:
        outcome = apply_plan(rt, plan)
        report.update(result="applied", applied=outcome.counts(), failed=outcome.failed)
    report["pruned"] = prune_history(rt, now)
    metrics.inc(RUNS, result=report["result"])
    return report


@DBOS.step(name="lifecycle_run")
def _lifecycle_step(now: str) -> dict[str, Any]:
    rt = runtime()
    at = datetime.fromisoformat(now)
    report = run_lifecycle(rt, at)
    if report["result"] != "refused":
        cutoff = at - timedelta(days=rt.settings.executions_retention_days)
        report["pruned"]["workflow_records"] = prune_workflow_records(cutoff)
    metrics.flush(rt.observability)
    return report


@DBOS.workflow(name="lifecycle")
def lifecycle_workflow(scheduled_time: datetime, context: Any) -> dict[str, Any]:
    return _lifecycle_step(datetime.now(UTC).isoformat())


def schedule_entry(rt: Runtime, queue: str) -> dict[str, Any]:
    return {
        "schedule_name": SCHEDULE,
        "workflow_fn": lifecycle_workflow,
        "schedule": rt.settings.lifecycle_cron,
        "queue_name": queue,
    }


def run_at_start(queue: str) -> None:
    """Enqueue a run now, once a day however many processes start (one workflow id a day)."""
    today = datetime.now(UTC)
    with SetWorkflowID(f"{SCHEDULE}-start-{today.date().isoformat()}"):
        DBOS.enqueue_workflow(queue, lifecycle_workflow, today, None)
