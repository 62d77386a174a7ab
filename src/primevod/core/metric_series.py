"""Named series: what the dashboard draws and alarms watch, each computed over a window of
stored points."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from primevod.core.metric_definitions import MINUTE
from primevod.core.metric_window import Window


@dataclass(frozen=True)
class Series:
    name: str
    help: str
    kind: str  # count: sums add up; ratio, quantile, mean, gauge: a value over any window
    over: Callable[[Window, int, int], float | None]
    samples: Callable[[Window, int, int], float] | None = None  # what a ratio/quantile rests on


def _count(metric: str, **where: str) -> Callable[[Window, int, int], float | None]:
    return lambda w, t0, t1: w.total(metric, t0, t1, where)


def _counter(name: str, description: str, metric: str, **where: str) -> Series:
    """A count series: the total of `metric` (its points labelled `where`) over the window."""
    return Series(name, description, "count", _count(metric, **where))


_WF = "primevod_workflow_executions_total"
_REQ = "primevod_delivery_requests_total"
SERIES: dict[str, Series] = {
    s.name: s
    for s in (
        _counter("workflows_started", "workflow executions started", _WF, status="started"),
        _counter("workflows_succeeded", "executions that ended ready", _WF, status="succeeded"),
        _counter(
            "workflows_failed",
            "executions that failed (a refused source counts in uploads_rejected instead)",
            _WF,
            status="failed",
        ),
        _counter(
            "uploads_rejected",
            "sources refused (source.* errors: corrupt, too long, unsupported...)",
            _WF,
            status="rejected",
        ),
        _counter("requests_total", "edge delivery requests", _REQ),
        _counter("requests_2xx", "edge 2xx answers", _REQ, **{"class": "2xx"}),
        _counter("requests_3xx", "edge 3xx answers", _REQ, **{"class": "3xx"}),
        _counter("requests_4xx", "edge 4xx answers", _REQ, **{"class": "4xx"}),
        _counter("requests_5xx", "edge 5xx answers", _REQ, **{"class": "5xx"}),
        Series(
            "error_rate_4xx",
            "share of edge requests answered 4xx",
            "ratio",
            lambda w, t0, t1: w.ratio(_REQ, {"class": "4xx"}, t0, t1, {}),
            lambda w, t0, t1: w.total(_REQ, t0, t1),
        ),
        Series(
            "error_rate_5xx",
            "share of edge requests answered 5xx",
            "ratio",
            lambda w, t0, t1: w.ratio(_REQ, {"class": "5xx"}, t0, t1, {}),
            lambda w, t0, t1: w.total(_REQ, t0, t1),
        ),
        _counter("bytes_out", "bytes sent by the edge", "primevod_delivery_bytes_total"),
        Series(
            "cache_hit_ratio",
            "edge cache hits / lookups",
            "ratio",
            lambda w, t0, t1: w.ratio("primevod_edge_cache_total", {"result": "hit"}, t0, t1, {}),
            lambda w, t0, t1: w.total("primevod_edge_cache_total", t0, t1),
        ),
        Series(
            "origin_latency_p95_ms",
            "95th percentile of origin latency, ms",
            "quantile",
            lambda w, t0, t1: _ms(w.quantile("primevod_origin_latency_seconds", 0.95, t0, t1)),
            lambda w, t0, t1: w.total("primevod_origin_latency_seconds_count", t0, t1),
        ),
        Series(
            "api_latency_p95_ms",
            "95th percentile of API latency, ms",
            "quantile",
            lambda w, t0, t1: _ms(w.quantile("primevod_api_latency_seconds", 0.95, t0, t1)),
            lambda w, t0, t1: w.total("primevod_api_latency_seconds_count", t0, t1),
        ),
        Series(
            "queue_depth",
            "workflows waiting or running (largest sample)",
            "gauge",
            lambda w, t0, t1: w.gauge("primevod_queue_depth", t0, t1),
        ),
        Series(
            "queue_oldest_age_seconds",
            "age of the oldest queued workflow (largest sample)",
            "gauge",
            lambda w, t0, t1: w.gauge("primevod_queue_oldest_age_seconds", t0, t1),
        ),
        Series(
            "budget_used_ratio",
            "share of the monthly budget spent (largest sample)",
            "gauge",
            lambda w, t0, t1: w.gauge("primevod_budget_used_ratio", t0, t1),
        ),
        Series(
            "encode_realtime_factor",
            "mean encode speed, x realtime",
            "mean",
            lambda w, t0, t1: w.mean("primevod_encode_realtime_factor", t0, t1),
        ),
        _counter("uploads_started", "uploads started", "primevod_uploads_total", status="started"),
        _counter(
            "uploads_completed", "uploads completed", "primevod_uploads_total", status="completed"
        ),
        _counter("upload_bytes", "bytes uploaded", "primevod_upload_bytes_total"),
        *(
            Series(
                f"step_seconds_{step}",
                f"mean duration of the {step} step, s",
                "mean",
                lambda w, t0, t1, step=step: w.mean(
                    "primevod_step_duration_seconds", t0, t1, {"step": step}
                ),
            )
            for step in ("ingest", "process", "quality", "publish")
        ),
        _counter(
            "canary_passed",
            "canary runs that passed",
            "primevod_canary_runs_total",
            result="passed",
        ),
        _counter(
            "canary_failed",
            "canary runs that failed",
            "primevod_canary_runs_total",
            result="failed",
        ),
        _counter(
            "lifecycle_refused",
            "lifecycle runs refused because the lifecycle document did not load",
            "primevod_lifecycle_runs_total",
            result="refused",
        ),
    )
}


def _ms(seconds: float | None) -> float | None:
    return None if seconds is None else round(seconds * 1000.0, 3)


def series_value(
    name: str, window: Window, t0: int, t1: int, min_samples: float = 0
) -> float | None:
    """A named series over [t0, t1): counts are 0 when nothing happened, the rest None (also
    when a ratio or percentile rests on fewer than `min_samples` observations)."""
    series = SERIES[name]
    if min_samples and series.samples and series.samples(window, t0, t1) < min_samples:
        return None
    value = series.over(window, t0, t1)
    if series.kind == "count":
        return value or 0.0
    return value


def series_points(
    name: str, window: Window, start: int, end: int, step: int = MINUTE
) -> list[tuple[int, float | None]]:
    """One value per step from start (inclusive) to end (exclusive); counts with no data are
    None here (a gap in a chart), unlike series_value."""
    series = SERIES[name]
    out: list[tuple[int, float | None]] = []
    for t in range(start, end, step):
        value = series.over(window, t, t + step)
        if series.kind == "count" and not value:
            value = None
        out.append((t, value))
    return out
