"""The scheduled side of observability, as DBOS workflows on cron schedules (stored in the
workflow database, so with many servers each tick runs once): `observe` samples the queue,
evaluates every alarm and prunes old points; `canary` checks ready assets (or configured
URLs) through the edge and records the results; `lifecycle` (pipeline/lifecycle_schedule.py)
applies the lifecycle rules and prunes old history daily. All run on the `observe` queue,
which only servers and workers listen to (a one-shot `primevod process` never runs them)."""

from __future__ import annotations

import contextlib
import logging
import time
from datetime import datetime
from typing import Any

from dbos import DBOS

from primevod.core.alarms import BUDGET_ALARM, AlarmSpec, AlarmState, evaluate, period_values
from primevod.core.alarms import DEFAULT_ALARMS as SHIPPED
from primevod.core.errors import NotFound
from primevod.core.metrics import MINUTE, Window, minute_of
from primevod.core.public_base import local_server, public_base
from primevod.observability import metrics
from primevod.pipeline import budget_guard, lifecycle_schedule
from primevod.pipeline.runtime import Runtime, runtime

log = logging.getLogger("primevod.observer")
QUEUE = "observe"
STALE_SECONDS = 120  # a tick older than this (queued while no server ran) is skipped


def alarm_specs(rt: Runtime) -> list[AlarmSpec]:
    """The shipped alarms (unless `default_alarms = false`), then the configured ones, which
    replace a shipped alarm of the same name."""
    settings = rt.settings
    specs = {a.name: a for a in SHIPPED} if settings.default_alarms else {}
    if settings.default_alarms and settings.budget_monthly_usd:
        specs[BUDGET_ALARM.name] = BUDGET_ALARM
    for spec in settings.alarms:
        specs[spec.name] = spec
    return [s for s in specs.values() if s.enabled]


def alarm_rows(rt: Runtime) -> list[dict[str, Any]]:
    """Every alarm's rule with its stored state (INSUFFICIENT_DATA before its first
    evaluation), for the API, the CLI and the dashboard."""
    states = rt.observability.alarm_states()
    rows = []
    for spec in alarm_specs(rt):
        state = states.get(spec.name, {})
        rows.append(
            {
                "name": spec.name,
                "description": spec.description,
                "state": state.get("state", "INSUFFICIENT_DATA"),
                "reason": state.get("reason", "not evaluated yet"),
                "metric": spec.metric,
                "statistic": spec.statistic,
                "comparison": spec.comparison,
                "threshold": spec.threshold,
                "period_seconds": spec.period_seconds,
                "evaluation_periods": spec.evaluation_periods,
                "datapoints_to_alarm": spec.needed,
                "missing_data": spec.missing_data.value,
                "values": state.get("values", []),
                "updated_at": state.get("updated_at"),
                "changed_at": state.get("changed_at"),
            }
        )
    return rows


def sample_queue(now: float | None = None) -> dict[str, Any]:
    """Queue depth and the age of the oldest waiting workflow, as gauges."""
    from primevod.pipeline.workflows import QUEUE as ENCODE

    now = time.time() if now is None else now
    waiting = DBOS.list_queued_workflows(
        queue_name=ENCODE, load_input=False, load_output=False, sort_desc=False
    )
    depth = len(waiting)
    enqueued = [w.created_at for w in waiting if w.status == "ENQUEUED" and w.created_at]
    oldest = max(0.0, now - min(enqueued) / 1000.0) if enqueued else 0.0
    metrics.set_gauge("primevod_queue_depth", float(depth), queue=ENCODE)
    metrics.set_gauge("primevod_queue_oldest_age_seconds", oldest, queue=ENCODE)
    return {"depth": depth, "oldest_age_seconds": round(oldest, 1) if enqueued else None}


def evaluate_alarms(rt: Runtime, now: float | None = None) -> list[dict[str, Any]]:
    """Evaluate every alarm on the stored points; state changes become events."""
    now = time.time() if now is None else now
    specs = alarm_specs(rt)
    if not specs:
        return []
    span = max(s.period_seconds * s.evaluation_periods for s in specs)
    end = minute_of(now) + MINUTE  # the newest period includes the current minute
    window = Window(rt.observability.points(end - span, end))
    previous = rt.observability.alarm_states()
    out = []
    for spec in specs:
        before = previous.get(spec.name, {}).get("state")
        result = evaluate(
            spec, period_values(spec, window, now), AlarmState(before) if before else None
        )
        changed = rt.observability.save_alarm(spec.name, result, spec.description)
        if changed and before is not None:
            level = logging.WARNING if result.state is AlarmState.ALARM else logging.INFO
            log.log(
                level,
                "alarm %s: %s -> %s (%s)",
                spec.name,
                before,
                result.state.value,
                result.reason,
                extra={"alarm": spec.name, "state": result.state.value},
            )
        out.append({"name": spec.name, "state": result.state.value, "changed": changed})
    return out


def run_observe_tick(rt: Runtime, now: float | None = None) -> dict[str, Any]:
    """One tick: sample gauges, flush this process's metrics, evaluate alarms, prune points
    (canary runs and the rest are pruned by the lifecycle workflow)."""
    now = time.time() if now is None else now
    queue = sample_queue(now)
    budget_guard.sample_budget(rt)
    metrics.flush(rt.observability)
    alarms = evaluate_alarms(rt, now)
    keep = rt.settings.metrics_retention_hours * 3600
    rt.observability.prune(minute_of(now - keep))
    return {"queue": queue, "alarms": alarms}


@DBOS.step(name="observe_tick")
def _observe_step(now: float) -> dict[str, Any]:
    return run_observe_tick(runtime(), now)


@DBOS.workflow(name="observe")
def observe_schedule(scheduled_time: datetime, context: Any) -> dict[str, Any] | None:
    if time.time() - scheduled_time.timestamp() > STALE_SECONDS:
        return None  # queued while no server was running: a newer tick covers it
    return _observe_step(time.time())


# -- scheduled canary -----------------------------------------------------------------------
def canary_targets(rt: Runtime) -> list[tuple[str, str | None]]:
    """(URL, asset id) pairs: the configured URLs, else `canary_max_assets` ready assets'
    masters on this installation's edge, the newest and then the least recently checked, so
    successive runs cover every ready asset."""
    if rt.settings.canary_urls:
        return [(u, None) for u in rt.settings.canary_urls]
    settings = rt.settings  # the edge as a link names it (core/public_base.py)
    base = public_base(settings.public_url, local_server(settings.host, settings.port))
    targets = []
    for asset_id in rt.observability.canary_rotation(rt.settings.canary_max_assets):
        try:
            asset = rt.catalog.get_asset(asset_id)
        except NotFound:  # deleted since
            continue
        if asset.hls_path and asset.output_prefix:
            relative = asset.hls_path[len(asset.output_prefix) :]
            targets.append((f"{base}/vod/{asset.id}/{relative}", asset.id))
    return targets


def run_canaries(rt: Runtime) -> list[dict[str, Any]]:
    from primevod.core.signing import Signer
    from primevod.pipeline.canary import run_canary

    signer = None
    try:
        key_id, private = rt.signing_keys.signing_key()
        signer = Signer(key_id, private)
    except LookupError:
        pass
    results = []
    for url, asset_id in canary_targets(rt):
        result = run_canary(url, signer=signer if asset_id else None)
        data = result.model_dump(mode="json", exclude={"request_log"})
        rt.observability.record_canary(url, asset_id, data)
        metrics.inc("primevod_canary_runs_total", result="passed" if result.passed else "failed")
        if not result.passed:
            log.warning(
                "canary failed for %s: %s",
                url,
                "; ".join(f"{f['rule']} ({f['target']})" for f in data.get("failed", [])[:3])
                or data.get("error"),
                extra={"asset_id": asset_id, "url": url},
            )
        results.append(data)
    metrics.flush(rt.observability)
    return results


@DBOS.step(name="canary_run")
def _canary_step() -> list[dict[str, Any]]:
    return run_canaries(runtime())


@DBOS.workflow(name="canary")
def canary(scheduled_time: datetime, context: Any) -> int | None:
    if time.time() - scheduled_time.timestamp() > STALE_SECONDS:
        return None
    # runs on the minutes since the epoch that are multiples of the interval, so any
    # interval (7, 90 minutes) is kept exactly, across hours and days; the schedule ticks
    # only on those minutes when the interval divides an hour, else every minute
    interval = runtime().settings.canary_interval_minutes
    if not interval or int(scheduled_time.timestamp() // 60) % interval:
        return None
    return len(_canary_step())


def _canary_cron(interval: int) -> str:
    """At second 30 of the canary's minutes: `*/N` when N divides an hour (the same minutes as
    the epoch rule), else every minute for the workflow to pick its own."""
    minutes = f"*/{interval}" if interval < 60 and 60 % interval == 0 else "*"
    return f"30 {minutes} * * * *"


# -- audit digest ---------------------------------------------------------------------------
AUDIT_DIGEST_CRON = "15 0 * * * *"  # hourly, at second 15 of minute 0


@DBOS.step(name="audit_digest")
def _audit_digest_step() -> int | None:
    from primevod.pipeline import audit

    made = audit.digest(runtime())
    return made.number if made else None


@DBOS.workflow(name="audit_digest")
def audit_digest(scheduled_time: datetime, context: Any) -> int | None:
    """Sign the audit records of the past hour (pipeline/audit.py); a stale tick is skipped,
    the next one covers its records."""
    if time.time() - scheduled_time.timestamp() > STALE_SECONDS:
        return None
    return _audit_digest_step()


# -- analytics export --------------------------------------------------------------------
ANALYTICS_CRON = "45 5 * * * *"  # hourly, at minute 5 (after the hour's audit digest)


@DBOS.step(name="analytics_refresh")
def _analytics_step() -> int:
    from primevod.pipeline import analytics

    written = analytics.refresh(runtime())
    return sum(sum(days.values()) for days in written.values())


@DBOS.workflow(name="analytics_refresh")
def analytics_refresh(scheduled_time: datetime, context: Any) -> int | None:
    """Export the hour's new rows to the analytics lake (pipeline/analytics.py)."""
    if time.time() - scheduled_time.timestamp() > STALE_SECONDS:
        return None
    return _analytics_step()


def schedule(rt: Runtime) -> None:
    """Create or update the schedules (after DBOS.launch) and listen to their queue."""
    settings = rt.settings
    DBOS.register_queue(
        QUEUE, global_concurrency=1, polling_interval_sec=1.0, on_conflict="always_update"
    )
    schedules: list[Any] = [
        {
            "schedule_name": "primevod-observe",
            "workflow_fn": observe_schedule,
            "schedule": settings.observe_cron,
            "queue_name": QUEUE,
        },
        lifecycle_schedule.schedule_entry(rt, QUEUE),
        {
            "schedule_name": "primevod-audit-digest",
            "workflow_fn": audit_digest,
            "schedule": AUDIT_DIGEST_CRON,
            "queue_name": QUEUE,
        },
        {
            "schedule_name": "primevod-analytics",
            "workflow_fn": analytics_refresh,
            "schedule": ANALYTICS_CRON,
            "queue_name": QUEUE,
        },
    ]
    if settings.canary_interval_minutes:
        schedules.append(
            {
                "schedule_name": "primevod-canary",
                "workflow_fn": canary,
                "schedule": _canary_cron(settings.canary_interval_minutes),
                "queue_name": QUEUE,
            }
        )
    DBOS.apply_schedules(schedules)
    lifecycle_schedule.run_at_start(QUEUE)
    if not settings.canary_interval_minutes:
        with contextlib.suppress(Exception):  # there was none
            DBOS.delete_schedule("primevod-canary")
