"""Metrics: the definitions (names, kinds, labels), an in-process aggregator that counts per
minute, and the arithmetic over stored 1-minute points (sums, ratios, histogram quantiles).
Pure: storing the points and serving `/metrics` are adapters' work.

Every process (server, edge workers, encode workers) aggregates its own counts and flushes the
per-minute deltas to the shared store; `/metrics` and the dashboard read the store, so the
figures are the whole installation's, not one process's.

The parts live in the modules below; this one gathers their public names, the import path the
rest of the project uses."""

from __future__ import annotations

from primevod.core.histograms import (
    DURATION_BUCKETS,
    LATENCY_BUCKETS,
    SPEED_BUCKETS,
    bucket_label,
    histogram_quantile,
)
from primevod.core.metric_aggregator import Aggregator, Flush, SeriesKey
from primevod.core.metric_definitions import (
    BY_NAME,
    DEFINITIONS,
    MINUTE,
    PREFIX,
    Kind,
    MetricDef,
    failure_outcome,
    label_string,
    minute_of,
    parse_labels,
    status_class,
)
from primevod.core.metric_series import SERIES, Series, series_points, series_value
from primevod.core.metric_window import Point, Window, aggregate

__all__ = [
    "BY_NAME",
    "DEFINITIONS",
    "DURATION_BUCKETS",
    "LATENCY_BUCKETS",
    "MINUTE",
    "PREFIX",
    "SERIES",
    "SPEED_BUCKETS",
    "Aggregator",
    "Flush",
    "Kind",
    "MetricDef",
    "Point",
    "Series",
    "SeriesKey",
    "Window",
    "aggregate",
    "bucket_label",
    "failure_outcome",
    "histogram_quantile",
    "label_string",
    "minute_of",
    "parse_labels",
    "series_points",
    "series_value",
    "status_class",
]
