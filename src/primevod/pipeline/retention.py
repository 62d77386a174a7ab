"""Retention of every log and history the product writes, each with its own period
(settings.py; the dev profile has the shortest), pruned by the lifecycle workflow:

| what                                            | setting                     |
|-------------------------------------------------|-----------------------------|
| events, webhook deliveries, queue messages      | events_retention_days       |
| ended executions and their steps                | executions_retention_days   |
| finished DBOS workflow records (workflows.db)   | executions_retention_days   |
| 1-minute metric points                          | metrics_retention_hours     |
| canary runs                                     | canary_retention_days       |
| rotated edge access log files                   | access_log_retention_days   |
| rotated log files (`log_file = true`)           | log_retention_days          |
| audit records (whole digested periods)          | audit_retention_days        |
| player beacon events                            | beacon_retention_days       |

Nothing of an asset still in its workflow is pruned, nor an asset's current execution. The
log files rotate by themselves (observability/log_files.py, by size and daily)."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from primevod.core.metrics import minute_of
from primevod.observability import metrics
from primevod.observability.log_files import prune_rotated
from primevod.pipeline import audit
from primevod.pipeline.runtime import Runtime

log = logging.getLogger("primevod.retention")
ACCESS_LOG = "edge-access.log"
LOG_FILE = "primevod.log"
# DBOS's ended states: a workflow in any other is pending, queued or running
FINISHED = ["SUCCESS", "ERROR", "CANCELLED", "MAX_RECOVERY_ATTEMPTS_EXCEEDED"]


def log_path(settings: Any, name: str) -> Path:
    return Path(settings.home) / "logs" / name


def retention_periods(settings: Any) -> list[dict[str, Any]]:
    """Each history with its setting and period (for `primevod lifecycle show`)."""
    s = settings
    return [
        {"what": "events and deliveries", "setting": "events_retention_days",
         "days": s.events_retention_days},
        {"what": "executions and steps", "setting": "executions_retention_days",
         "days": s.executions_retention_days},
        {"what": "metric points", "setting": "metrics_retention_hours",
         "days": s.metrics_retention_hours / 24},
        {"what": "canary runs", "setting": "canary_retention_days",
         "days": s.canary_retention_days},
        {"what": "edge access log files", "setting": "access_log_retention_days",
         "days": s.access_log_retention_days},
        {"what": "log files", "setting": "log_retention_days", "days": s.log_retention_days},
        {"what": "audit records", "setting": "audit_retention_days",
         "days": s.audit_retention_days},
        {"what": "player beacon events", "setting": "beacon_retention_days",
         "days": s.beacon_retention_days},
    ]  # fmt: skip


def prune_history(rt: Runtime, now: datetime) -> dict[str, int]:
    """Remove whatever is older than its retention at `now`; returns what went, by kind."""
    s = rt.settings

    def ago(days: float) -> datetime:
        return now - timedelta(days=days)

    events, deliveries = rt.catalog.prune_events(ago(s.events_retention_days))
    executions, steps = rt.catalog.prune_executions(ago(s.executions_retention_days))
    pruned = {
        "events": events,
        "deliveries": deliveries,
        "executions": executions,
        "steps": steps,
        "metric_points": rt.observability.prune(
            minute_of(now.timestamp() - s.metrics_retention_hours * 3600)
        ),
        "canary_runs": rt.observability.prune_canary(ago(s.canary_retention_days)),
        "access_log_files": prune_rotated(
            log_path(s, ACCESS_LOG), ago(s.access_log_retention_days)
        ),
        "log_files": prune_rotated(log_path(s, LOG_FILE), ago(s.log_retention_days)),
        "audit_records": audit.prune(rt, now),  # whole digested periods: still verifiable
        "beacon_events": rt.catalog.prune_beacon_events(
            now.timestamp() - s.beacon_retention_days * 86400
        ),
    }
    for what, count in pruned.items():
        if count:
            metrics.inc("primevod_retention_pruned_total", count, what=what)
    if any(pruned.values()):
        log.info("pruned %s", ", ".join(f"{n} {what}" for what, n in pruned.items() if n))
    return pruned


def prune_workflow_records(before: datetime, batch: int = 1000) -> int:
    """Remove the DBOS records (status, steps' outputs) of workflows that ended and began
    before `before`: asset workflows with their chunk encodes, and every scheduled tick.
    Needs DBOS launched in this process; never touches a pending or queued workflow."""
    from dbos import DBOS

    removed = 0
    while True:
        ended = DBOS.list_workflows(
            status=FINISHED,
            end_time=before.isoformat(),
            has_parent=False,  # a child goes with its parent
            limit=batch,
            load_input=False,
            load_output=False,
        )
        if not ended:
            return removed
        DBOS.delete_workflows([w.workflow_id for w in ended], delete_children=True)
        removed += len(ended)
        if len(ended) < batch:
            return removed
