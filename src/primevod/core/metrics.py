"""Metrics: the definitions (names, kinds, labels), an in-process aggregator that counts per
minute, and the arithmetic over stored 1-minute points (sums, ratios, histogram quantiles).
Pure: storing the points and serving `/metrics` are adapters' work.

Every process (server, edge workers, encode workers) aggregates its own counts and flushes the
per-minute deltas to the shared store; `/metrics` and the dashboard read the store, so the
figures are the whole installation's, not one process's."""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum

PREFIX = "primevod_"
MINUTE = 60


class Kind(StrEnum):
    COUNTER = "counter"
    GAUGE = "gauge"
    HISTOGRAM = "histogram"


LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)
DURATION_BUCKETS = (0.1, 0.5, 1.0, 5.0, 15.0, 60.0, 300.0, 900.0, 3600.0)
SPEED_BUCKETS = (0.25, 0.5, 1.0, 2.0, 4.0, 8.0, 16.0)


@dataclass(frozen=True)
class MetricDef:
    name: str
    kind: Kind
    help: str
    labels: tuple[str, ...] = ()
    buckets: tuple[float, ...] = ()


DEFINITIONS: tuple[MetricDef, ...] = (
    MetricDef(
        "primevod_workflow_executions_total",
        Kind.COUNTER,
        "Asset workflow executions by outcome (started, succeeded, failed), stage and error code",
        ("status", "stage", "code"),
    ),
    MetricDef(
        "primevod_step_duration_seconds",
        Kind.HISTOGRAM,
        "Duration of workflow steps (ingest, process, quality, publish) by outcome",
        ("step", "status"),
        DURATION_BUCKETS,
    ),
    MetricDef(
        "primevod_encode_realtime_factor",
        Kind.HISTOGRAM,
        "Encode speed: seconds of media per second of wall time, per encode",
        (),
        SPEED_BUCKETS,
    ),
    MetricDef("primevod_queue_depth", Kind.GAUGE, "Workflows waiting or running", ("queue",)),
    MetricDef(
        "primevod_queue_oldest_age_seconds",
        Kind.GAUGE,
        "Age of the oldest workflow waiting in the queue",
        ("queue",),
    ),
    MetricDef(
        "primevod_uploads_total",
        Kind.COUNTER,
        "Browser uploads by outcome (started, completed, aborted)",
        ("status",),
    ),
    MetricDef("primevod_upload_bytes_total", Kind.COUNTER, "Bytes received by completed uploads"),
    MetricDef(
        "primevod_delivery_requests_total",
        Kind.COUNTER,
        "Edge delivery requests by status class (2xx, 3xx, 4xx, 5xx)",
        ("class",),
    ),
    MetricDef("primevod_delivery_bytes_total", Kind.COUNTER, "Bytes sent by the edge"),
    MetricDef(
        "primevod_edge_cache_total",
        Kind.COUNTER,
        "Edge cache lookups (object metadata and files) by result (hit, miss)",
        ("result",),
    ),
    MetricDef(
        "primevod_origin_latency_seconds",
        Kind.HISTOGRAM,
        "Time the edge takes to answer a delivery request from the origin store",
        (),
        LATENCY_BUCKETS,
    ),
    MetricDef(
        "primevod_api_requests_total", Kind.COUNTER, "API requests by status class", ("class",)
    ),
    MetricDef(
        "primevod_api_latency_seconds",
        Kind.HISTOGRAM,
        "API request latency",
        (),
        LATENCY_BUCKETS,
    ),
    MetricDef("primevod_canary_runs_total", Kind.COUNTER, "HLS canary runs by result", ("result",)),
)
BY_NAME: dict[str, MetricDef] = {d.name: d for d in DEFINITIONS}


def label_string(labels: Mapping[str, str]) -> str:
    """Canonical label text, sorted by name: `a="1",b="x"` (quotes and backslashes escaped)."""
    parts = []
    for key in sorted(labels):
        value = str(labels[key]).replace("\\", "\\\\").replace('"', '\\"').replace("\n", " ")
        parts.append(f'{key}="{value}"')
    return ",".join(parts)


def parse_labels(text: str) -> dict[str, str]:
    """The inverse of label_string."""
    out: dict[str, str] = {}
    i = 0
    while i < len(text):
        eq = text.index("=", i)
        key = text[i:eq]
        j = eq + 2  # after ="
        value = []
        while text[j] != '"':
            if text[j] == "\\":
                j += 1
            value.append(text[j])
            j += 1
        out[key] = "".join(value)
        i = j + 2  # past the quote and the comma
    return out


def bucket_label(bound: float) -> str:
    return "+Inf" if math.isinf(bound) else repr(float(bound))


def minute_of(ts: float) -> int:
    return int(ts // MINUTE * MINUTE)


# (series name, label string) -> value; a series name is a metric name or, for histograms,
# name_bucket (one per upper bound `le`, counts NOT cumulative), name_sum, name_count.
SeriesKey = tuple[str, str]


@dataclass
class Flush:
    counters: dict[tuple[int, str, str], float] = field(default_factory=dict)
    gauges: dict[tuple[int, str, str], float] = field(default_factory=dict)

    def __bool__(self) -> bool:
        return bool(self.counters or self.gauges)


class Aggregator:
    """Per-minute counts in memory until drained. Thread-safe and cheap: one lock, one dict
    update per call, no I/O."""

    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        self._lock = threading.Lock()
        self._clock = clock
        self._counters: dict[tuple[int, str, str], float] = {}
        self._gauges: dict[tuple[int, str, str], float] = {}

    def _check(self, name: str, kind: Kind, labels: Mapping[str, str]) -> MetricDef:
        d = BY_NAME.get(name)
        if d is None or d.kind is not kind:
            raise KeyError(f"{name} is not a {kind.value} metric")
        if set(labels) != set(d.labels):
            raise KeyError(f"{name} takes labels {d.labels}, got {tuple(labels)}")
        return d

    def inc(self, name: str, value: float = 1.0, **labels: str) -> None:
        self._check(name, Kind.COUNTER, labels)
        key = (minute_of(self._clock()), name, label_string(labels))
        with self._lock:
            self._counters[key] = self._counters.get(key, 0.0) + value

    def observe(self, name: str, value: float, **labels: str) -> None:
        d = self._check(name, Kind.HISTOGRAM, labels)
        minute = minute_of(self._clock())
        bound = next((b for b in d.buckets if value <= b), math.inf)
        base = label_string(labels)
        bucket = label_string({**labels, "le": bucket_label(bound)})
        with self._lock:
            for key, add in (
                ((minute, f"{name}_bucket", bucket), 1.0),
                ((minute, f"{name}_sum", base), value),
                ((minute, f"{name}_count", base), 1.0),
            ):
                self._counters[key] = self._counters.get(key, 0.0) + add

    def set(self, name: str, value: float, **labels: str) -> None:
        self._check(name, Kind.GAUGE, labels)
        key = (minute_of(self._clock()), name, label_string(labels))
        with self._lock:
            self._gauges[key] = value

    def drain(self) -> Flush:
        with self._lock:
            flush = Flush(self._counters, self._gauges)
            self._counters, self._gauges = {}, {}
        return flush

    def restore(self, flush: Flush) -> None:
        """Put back what could not be stored, so a failed flush loses nothing."""
        with self._lock:
            for key, value in flush.counters.items():
                self._counters[key] = self._counters.get(key, 0.0) + value
            for key, value in flush.gauges.items():
                self._gauges.setdefault(key, value)


# -- arithmetic over stored points ----------------------------------------------------------
Point = tuple[str, str, int, float]  # series name, label string, minute, value


def status_class(status: int) -> str:
    return f"{status // 100}xx" if 100 <= status < 600 else "5xx"


class Window:
    """Stored 1-minute points of a time range, with the sums a dashboard or alarm needs."""

    def __init__(self, points: Iterable[Point]) -> None:
        self.points: dict[str, list[tuple[dict[str, str], int, float]]] = {}
        for name, labels, minute, value in points:
            self.points.setdefault(name, []).append((parse_labels(labels), minute, value))

    def _rows(
        self, name: str, where: Mapping[str, str] | None, t0: int, t1: int
    ) -> Iterable[tuple[dict[str, str], int, float]]:
        for labels, minute, value in self.points.get(name, ()):
            if t0 <= minute < t1 and all(labels.get(k) == v for k, v in (where or {}).items()):
                yield labels, minute, value

    def has(self, name: str, t0: int, t1: int) -> bool:
        return any(True for _ in self._rows(name, None, t0, t1))

    def total(self, name: str, t0: int, t1: int, where: Mapping[str, str] | None = None) -> float:
        return sum(v for _, _, v in self._rows(name, where, t0, t1))

    def per_minute(
        self, name: str, t0: int, t1: int, where: Mapping[str, str] | None = None
    ) -> dict[int, float]:
        out: dict[int, float] = {}
        for _, minute, value in self._rows(name, where, t0, t1):
            out[minute] = out.get(minute, 0.0) + value
        return out

    def gauge(self, name: str, t0: int, t1: int, how: str = "maximum") -> float | None:
        values = list(self.per_minute(name, t0, t1).values())
        return aggregate(values, how)

    def ratio(
        self, name: str, part: Mapping[str, str], t0: int, t1: int, whole: Mapping[str, str]
    ) -> float | None:
        denominator = self.total(name, t0, t1, whole)
        return None if denominator <= 0 else self.total(name, t0, t1, part) / denominator

    def quantile(self, name: str, q: float, t0: int, t1: int) -> float | None:
        counts: dict[float, float] = {}
        for labels, _, value in self._rows(f"{name}_bucket", None, t0, t1):
            le = labels.get("le", "+Inf")
            bound = math.inf if le == "+Inf" else float(le)
            counts[bound] = counts.get(bound, 0.0) + value
        return histogram_quantile(q, counts)

    def mean(
        self, name: str, t0: int, t1: int, where: Mapping[str, str] | None = None
    ) -> float | None:
        count = self.total(f"{name}_count", t0, t1, where)
        return None if count <= 0 else self.total(f"{name}_sum", t0, t1, where) / count


def aggregate(values: list[float], how: str) -> float | None:
    if not values:
        return None
    if how == "sum":
        return sum(values)
    if how == "average":
        return sum(values) / len(values)
    if how == "maximum":
        return max(values)
    if how == "minimum":
        return min(values)
    if how == "sample_count":
        return float(len(values))
    raise ValueError(f"unknown statistic {how!r}")


def histogram_quantile(q: float, counts: Mapping[float, float]) -> float | None:
    """Prometheus' histogram_quantile on non-cumulative bucket counts {upper bound: count}:
    linear interpolation inside the bucket holding the q-th observation."""
    total = sum(counts.values())
    if total <= 0:
        return None
    rank = q * total
    seen = 0.0
    lower = 0.0
    finite = [b for b in sorted(counts) if not math.isinf(b)]
    for bound in sorted(counts):
        count = counts[bound]
        if seen + count >= rank and count > 0:
            if math.isinf(bound):
                return finite[-1] if finite else None
            return lower + (bound - lower) * (rank - seen) / count
        seen += count
        lower = bound
    return finite[-1] if finite else None


# -- named series: what the dashboard draws and alarms watch --------------------------------
@dataclass(frozen=True)
class Series:
    name: str
    help: str
    kind: str  # count: sums add up; ratio, quantile, mean, gauge: a value over any window
    over: Callable[[Window, int, int], float | None]
    samples: Callable[[Window, int, int], float] | None = None  # what a ratio/quantile rests on


def _count(metric: str, **where: str) -> Callable[[Window, int, int], float | None]:
    return lambda w, t0, t1: w.total(metric, t0, t1, where)


_WF = "primevod_workflow_executions_total"
_REQ = "primevod_delivery_requests_total"
SERIES: dict[str, Series] = {
    s.name: s
    for s in (
        Series(
            "workflows_started",
            "workflow executions started",
            "count",
            _count(_WF, status="started"),
        ),
        Series(
            "workflows_succeeded",
            "executions that ended ready",
            "count",
            _count(_WF, status="succeeded"),
        ),
        Series("workflows_failed", "executions that failed", "count", _count(_WF, status="failed")),
        Series("requests_total", "edge delivery requests", "count", _count(_REQ)),
        Series("requests_2xx", "edge 2xx answers", "count", _count(_REQ, **{"class": "2xx"})),
        Series("requests_3xx", "edge 3xx answers", "count", _count(_REQ, **{"class": "3xx"})),
        Series("requests_4xx", "edge 4xx answers", "count", _count(_REQ, **{"class": "4xx"})),
        Series("requests_5xx", "edge 5xx answers", "count", _count(_REQ, **{"class": "5xx"})),
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
        Series(
            "bytes_out", "bytes sent by the edge", "count", _count("primevod_delivery_bytes_total")
        ),
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
            "encode_realtime_factor",
            "mean encode speed, x realtime",
            "mean",
            lambda w, t0, t1: w.mean("primevod_encode_realtime_factor", t0, t1),
        ),
        Series(
            "uploads_started",
            "uploads started",
            "count",
            _count("primevod_uploads_total", status="started"),
        ),
        Series(
            "uploads_completed",
            "uploads completed",
            "count",
            _count("primevod_uploads_total", status="completed"),
        ),
        Series("upload_bytes", "bytes uploaded", "count", _count("primevod_upload_bytes_total")),
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
        Series(
            "canary_passed",
            "canary runs that passed",
            "count",
            _count("primevod_canary_runs_total", result="passed"),
        ),
        Series(
            "canary_failed",
            "canary runs that failed",
            "count",
            _count("primevod_canary_runs_total", result="failed"),
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
