"""Observability routes: Prometheus exposition at /metrics, the dashboard's data, alarms and
canary runs. Figures come from the shared store, so any server answers for the whole
installation; this process's unflushed counts are flushed first."""

from __future__ import annotations

import contextlib
import math
import time
from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, Depends, HTTPException, Query, Response

from primevod.api.auth import allow
from primevod.api.deps import RuntimeDep
from primevod.core.access import Principal
from primevod.core.metrics import (
    BY_NAME,
    MINUTE,
    SERIES,
    Kind,
    Window,
    minute_of,
    parse_labels,
    series_points,
    series_value,
)
from primevod.core.qoe import summarize
from primevod.observability import metrics
from primevod.pipeline import cost_report
from primevod.pipeline import schedules as observer
from primevod.pipeline.runtime import Runtime

router = APIRouter()
DASHBOARD_SERIES = (
    "workflows_started",
    "workflows_succeeded",
    "workflows_failed",
    "uploads_rejected",
    "requests_2xx",
    "requests_3xx",
    "requests_4xx",
    "requests_5xx",
    "bytes_out",
    "cache_hit_ratio",
    "origin_latency_p95_ms",
    "queue_depth",
    "queue_oldest_age_seconds",
    "api_latency_p95_ms",
    "step_seconds_ingest",
    "step_seconds_process",
    "step_seconds_quality",
    "step_seconds_publish",
    "uploads_started",
    "encode_realtime_factor",
    "uploads_completed",
    "upload_bytes",
    "canary_passed",
    "canary_failed",
)
STATE_VALUE = {"OK": 0.0, "ALARM": 1.0, "INSUFFICIENT_DATA": -1.0}


def _flushed_store(rt: Runtime) -> Any:
    store = rt.observability
    with contextlib.suppress(Exception):  # busy database: serve what is stored; counts kept
        metrics.flush(store)
    return store


def _queue(rt: Runtime) -> dict[str, Any]:
    if not rt.workflows.runs_workers:
        return {"depth": None, "oldest_age_seconds": None}
    try:
        return observer.sample_queue()
    except Exception:
        return {"depth": None, "oldest_age_seconds": None}


def _worker_counts(rt: Runtime) -> dict[str, int]:
    from datetime import UTC, datetime

    from primevod.core.workers import is_dead

    now = datetime.now(UTC)
    live = rt.workers.list_workers(states=("live",))
    dead = sum(1 for w in live if is_dead(w, now, rt.settings.worker_dead_after_seconds))
    return {"live": len(live) - dead, "dead": dead}


class _Collector:
    """Counters and histograms from the stored totals; gauges read live."""

    def __init__(self, totals: list[tuple[str, str, float]], live: dict[str, Any]) -> None:
        self.totals = totals
        self.live = live

    def collect(self) -> Any:
        from prometheus_client.core import (
            CounterMetricFamily,
            GaugeMetricFamily,
            HistogramMetricFamily,
        )

        grouped: dict[str, list[tuple[str, dict[str, str], float]]] = {}
        for series, labels, value in self.totals:
            for suffix in ("_bucket", "_sum", "_count", ""):
                base = series[: -len(suffix)] if suffix else series
                if series.endswith(suffix) and base in BY_NAME:
                    grouped.setdefault(base, []).append((suffix, parse_labels(labels), value))
                    break
        for d in BY_NAME.values():
            rows = grouped.get(d.name, [])
            if d.kind is Kind.COUNTER:
                family = CounterMetricFamily(d.name, d.help, labels=list(d.labels))
                for _, labels, value in rows:
                    family.add_metric([labels.get(k, "") for k in d.labels], value)
                yield family
            elif d.kind is Kind.HISTOGRAM:
                family = HistogramMetricFamily(d.name, d.help, labels=list(d.labels))
                by_labels: dict[tuple[str, ...], dict[str, Any]] = {}
                for suffix, labels, value in rows:
                    le = labels.pop("le", None)
                    key = tuple(labels.get(k, "") for k in d.labels)
                    entry = by_labels.setdefault(key, {"buckets": {}, "sum": 0.0})
                    if suffix == "_bucket" and le is not None:
                        bound = math.inf if le == "+Inf" else float(le)
                        entry["buckets"][bound] = entry["buckets"].get(bound, 0.0) + value
                    elif suffix == "_sum":
                        entry["sum"] = value
                for key, entry in by_labels.items():
                    cumulative, running = [], 0.0
                    for bound in [*d.buckets, math.inf]:
                        running += entry["buckets"].get(bound, 0.0)
                        cumulative.append(("+Inf" if math.isinf(bound) else str(bound), running))
                    family.add_metric(list(key), cumulative, entry["sum"])
                yield family
        queue = self.live.get("queue") or {}
        if queue.get("depth") is not None:  # both only when the queue could be read
            for name, help_text, field in (
                ("primevod_queue_depth", "Workflows waiting or running", "depth"),
                (
                    "primevod_queue_oldest_age_seconds",
                    "Age of the oldest queued workflow (0: none waiting)",
                    "oldest_age_seconds",
                ),
            ):
                gauge = GaugeMetricFamily(name, help_text, labels=["queue"])
                gauge.add_metric(["encode"], float(queue.get(field) or 0.0))
                yield gauge
        workers = GaugeMetricFamily(
            "primevod_workers",
            "Workers by liveness (live; dead: not yet taken over)",
            labels=["state"],
        )
        for state, count in self.live.get("workers", {}).items():
            workers.add_metric([state], float(count))
        yield workers
        assets = GaugeMetricFamily("primevod_assets", "Assets by status", labels=["status"])
        for status, count in self.live.get("assets", {}).items():
            assets.add_metric([status], float(count))
        yield assets
        alarms = GaugeMetricFamily(
            "primevod_alarm_state",
            "Alarm state: 1 ALARM, 0 OK, -1 INSUFFICIENT_DATA",
            labels=["alarm"],
        )
        for name, state in self.live.get("alarms", {}).items():
            alarms.add_metric([name], STATE_VALUE.get(state, -1.0))
        yield alarms


@router.get("/metrics", include_in_schema=False)
def prometheus_metrics(
    rt: RuntimeDep,
) -> Response:
    """Prometheus text exposition of every primevod_ metric."""
    from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest

    from primevod.core.assets import AssetStatus

    store = _flushed_store(rt)
    live = {
        "queue": _queue(rt),
        "assets": {s.value: rt.catalog.count_assets(s.value) for s in AssetStatus},
        "workers": _worker_counts(rt),
        "alarms": {name: a["state"] for name, a in store.alarm_states().items()},
    }
    registry = CollectorRegistry(auto_describe=False)
    registry.register(_Collector(store.totals(), live))  # type: ignore[arg-type]
    return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)


@router.get("/api/v1/dashboard", tags=["observability"])
def dashboard(
    rt: RuntimeDep,
    minutes: int = Query(60, ge=5, le=7 * 24 * 60),
    _: Principal = Depends(allow("dashboard:Get")),
) -> dict[str, Any]:
    """Everything the dashboard draws: 1-minute series, window totals, queue, alarms,
    recent failures, canary runs, this month's cost against the budget, and how viewers'
    playback went (the player beacons of the window)."""
    store = _flushed_store(rt)
    now = time.time()
    end = minute_of(now) + MINUTE  # the current minute, still filling
    start = end - minutes * MINUTE
    window = Window(store.points(start, end))
    return {
        "generated_at": datetime.now(UTC).isoformat(),
        "minutes": minutes,
        "step_seconds": MINUTE,
        "series": {
            name: [[t, v] for t, v in series_points(name, window, start, end)]
            for name in DASHBOARD_SERIES
        },
        "totals": {name: series_value(name, window, start, end) for name in DASHBOARD_SERIES},
        "queue": _queue(rt),
        "alarms": observer.alarm_rows(rt),
        "failures": store.recent_failures(20, since=datetime.fromtimestamp(start, UTC)),
        "canary": store.canary_runs(20),
        "cost": cost_report.report(rt),
        "viewers": summarize(rt.catalog.viewer_sessions(start)),
    }


@router.get("/api/v1/metrics/series", tags=["observability"])
def series(
    rt: RuntimeDep,
    names: str = Query(..., description="comma-separated series names"),
    minutes: int = Query(60, ge=1, le=7 * 24 * 60),
    _: Principal = Depends(allow("metrics:Get")),
) -> dict[str, Any]:
    wanted = [n.strip() for n in names.split(",") if n.strip()]
    unknown = [n for n in wanted if n not in SERIES]
    if unknown or not wanted:
        raise HTTPException(
            422, f"unknown series {', '.join(unknown) or '(none)'}; known: {', '.join(SERIES)}"
        )
    store = _flushed_store(rt)
    end = minute_of(time.time()) + MINUTE
    start = end - minutes * MINUTE
    window = Window(store.points(start, end))
    return {n: [[t, v] for t, v in series_points(n, window, start, end)] for n in wanted}


@router.get("/api/v1/canary", tags=["observability"])
def canary_runs(
    rt: RuntimeDep,
    limit: int = Query(50, ge=1, le=500),
    _: Principal = Depends(allow("canary:Get")),
) -> list[dict[str, Any]]:
    return rt.observability.canary_runs(limit)


@router.post("/api/v1/canary/run", tags=["observability"])
def canary_now(rt: RuntimeDep, _: Principal = Depends(allow("canary:Run"))) -> list[dict[str, Any]]:
    """Run the canary now against its targets (the schedule does it periodically)."""
    return observer.run_canaries(rt)
