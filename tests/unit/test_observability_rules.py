"""Metrics arithmetic, alarm evaluation and event patterns: the pure side of observability."""

from __future__ import annotations

import math

import pytest

from primevod.core.alarms import (
    DEFAULT_ALARMS,
    AlarmSpec,
    AlarmState,
    MissingData,
    evaluate,
    period_values,
)
from primevod.core.event_patterns import PatternError, matches, validate_pattern
from primevod.core.metrics import (
    Aggregator,
    Window,
    histogram_quantile,
    label_string,
    parse_labels,
    series_points,
    series_value,
)

T0 = 1_800_000_000 - 1_800_000_000 % 60  # a minute boundary


# -- pure -----------------------------------------------------------------------------------
def test_aggregator_counts_per_minute_and_keeps_a_failed_flush() -> None:
    now = [T0 + 5.0]
    agg = Aggregator(clock=lambda: now[0])
    agg.inc("primevod_delivery_requests_total", **{"class": "2xx"})
    agg.inc("primevod_delivery_requests_total", 2, **{"class": "2xx"})
    now[0] = T0 + 65
    agg.inc("primevod_delivery_requests_total", **{"class": "2xx"})
    agg.observe("primevod_origin_latency_seconds", 0.03)
    agg.set("primevod_queue_depth", 4, queue="encode")
    with pytest.raises(KeyError):
        agg.inc("primevod_delivery_requests_total")  # its label is missing
    with pytest.raises(KeyError):
        agg.inc("primevod_nope_total")
    flush = agg.drain()
    assert flush.counters[(T0, "primevod_delivery_requests_total", 'class="2xx"')] == 3
    assert flush.counters[(T0 + 60, "primevod_delivery_requests_total", 'class="2xx"')] == 1
    assert flush.counters[(T0 + 60, "primevod_origin_latency_seconds_bucket", 'le="0.05"')] == 1
    assert flush.counters[(T0 + 60, "primevod_origin_latency_seconds_sum", "")] == 0.03
    assert flush.gauges[(T0 + 60, "primevod_queue_depth", 'queue="encode"')] == 4
    assert not agg.drain()
    agg.restore(flush)  # a failed write gives everything back
    assert agg.drain().counters == flush.counters


@pytest.mark.parametrize(
    "labels", [{}, {"a": "1"}, {"code": 'say "hi"', "b": "x\\y"}, {"le": "+Inf", "z": ""}]
)
def test_labels_round_trip(labels: dict[str, str]) -> None:
    assert parse_labels(label_string(labels)) == labels


def test_histogram_quantile_interpolates_within_the_bucket() -> None:
    assert histogram_quantile(0.95, {}) is None
    # 100 observations: 50 under 0.1, 50 in (0.1, 0.5]
    q = histogram_quantile(0.95, {0.1: 50, 0.5: 50, math.inf: 0})
    assert q == pytest.approx(0.1 + 0.4 * 45 / 50)
    assert histogram_quantile(0.5, {0.1: 50, 0.5: 50}) == pytest.approx(0.1)
    assert histogram_quantile(0.99, {0.1: 1, math.inf: 99}) == 0.1  # beyond the last bound


def _points() -> Window:
    return Window(
        [
            ("primevod_delivery_requests_total", 'class="2xx"', T0, 90.0),
            ("primevod_delivery_requests_total", 'class="5xx"', T0, 10.0),
            ("primevod_delivery_requests_total", 'class="2xx"', T0 + 60, 100.0),
            (
                "primevod_workflow_executions_total",
                'code="x",stage="ingest",status="failed"',
                T0 + 60,
                2.0,
            ),
            ("primevod_origin_latency_seconds_bucket", 'le="0.01"', T0, 80.0),
            ("primevod_origin_latency_seconds_bucket", 'le="1.0"', T0, 20.0),
            ("primevod_origin_latency_seconds_count", "", T0, 100.0),
        ]
    )


def test_series_over_windows() -> None:
    w = _points()
    assert series_value("error_rate_5xx", w, T0, T0 + 60) == pytest.approx(0.1)
    assert series_value("error_rate_5xx", w, T0, T0 + 120) == pytest.approx(10 / 200)
    assert series_value("error_rate_5xx", w, T0 + 120, T0 + 180) is None  # no requests
    assert series_value("error_rate_5xx", w, T0, T0 + 60, min_samples=101) is None
    assert series_value("workflows_failed", w, T0, T0 + 180) == 2
    assert series_value("workflows_failed", w, T0 + 120, T0 + 180) == 0  # counts: zero
    p95 = series_value("origin_latency_p95_ms", w, T0, T0 + 60)
    assert p95 is not None and 10 < p95 <= 1000
    points = series_points("requests_2xx", w, T0, T0 + 180)
    assert points == [(T0, 90.0), (T0 + 60, 100.0), (T0 + 120, None)]


def test_alarm_evaluation_follows_cloudwatch_semantics() -> None:
    spec = AlarmSpec(
        name="x",
        metric="workflows_failed",
        threshold=0,
        comparison=">",
        evaluation_periods=3,
        datapoints_to_alarm=2,
        period_seconds=60,
    )
    assert evaluate(spec, [1, 0, 1], None).state is AlarmState.ALARM
    assert evaluate(spec, [1, 0, 0], None).state is AlarmState.OK
    gauge = AlarmSpec(name="g", metric="queue_depth", threshold=10, comparison=">=")
    assert evaluate(gauge, [None], None).state is AlarmState.INSUFFICIENT_DATA
    for policy, previous, expected in (
        (MissingData.BREACHING, None, AlarmState.ALARM),
        (MissingData.NOT_BREACHING, AlarmState.ALARM, AlarmState.OK),
        (MissingData.IGNORE, AlarmState.ALARM, AlarmState.ALARM),
        (MissingData.MISSING, AlarmState.OK, AlarmState.INSUFFICIENT_DATA),
    ):
        spec = gauge.model_copy(update={"missing_data": policy})
        assert evaluate(spec, [None], previous).state is expected, policy
    # the newest period includes the current minute
    w = _points()
    rate = AlarmSpec(name="r", metric="error_rate_5xx", threshold=0.01, comparison=">")
    assert period_values(rate, w, T0 + 30) == [pytest.approx(0.1)]
    assert evaluate(rate, period_values(rate, w, T0 + 30), None).state is AlarmState.ALARM
    assert {a.name for a in DEFAULT_ALARMS} >= {
        "workflow-failures",
        "delivery-5xx-rate",
        "delivery-4xx-rate",
        "cache-hit-ratio",
        "origin-latency-p95",
        "canary-failure",
    }


def test_alarm_spec_rejects_nonsense() -> None:
    with pytest.raises(ValueError, match="unknown metric"):
        AlarmSpec(name="a", metric="nope", threshold=1, comparison=">")
    with pytest.raises(ValueError, match="whole number of minutes"):
        AlarmSpec(
            name="a", metric="workflows_failed", threshold=1, comparison=">", period_seconds=90
        )
    with pytest.raises(ValueError):
        AlarmSpec(name="a", metric="workflows_failed", threshold=1, comparison="!=")


def test_event_patterns() -> None:
    failed = {
        "type": "asset.failed",
        "asset_id": "a1",
        "data": {
            "error": {"code": "source.unreadable", "step": "ingest"},
            "progress": 0.4,
            "tags": ["x", "y"],
        },
    }
    assert matches(None, failed)
    assert matches({"type": ["asset.failed", "asset.ready"]}, failed)
    assert not matches({"type": ["asset.ready"]}, failed)
    assert matches({"data": {"error": {"code": [{"prefix": "source."}]}}}, failed)
    assert not matches({"data": {"error": {"code": [{"prefix": "encode."}]}}}, failed)
    assert matches({"data": {"error": {"step": [{"anything-but": ["publish"]}]}}}, failed)
    assert matches({"data": {"progress": [{"numeric": [">", 0, "<=", 0.5]}]}}, failed)
    assert not matches({"data": {"progress": [{"numeric": [">", 0.5]}]}}, failed)
    assert matches({"data": {"tags": ["y"]}}, failed)
    assert matches({"data": {"missing": [{"exists": False}]}}, failed)
    assert not matches({"data": {"error": [{"exists": False}]}}, failed)
    assert matches({"data": {"error": {"code": [{"suffix": "unreadable"}]}}}, failed)
    for bad in (
        {},
        {"type": []},
        {"type": "asset.failed"},
        {"type": [{"regex": "x"}]},
        {"data": {"n": [{"numeric": [">"]}]}},
    ):
        with pytest.raises(PatternError):
            validate_pattern(bad)


# -- a real server ----------------------------------------------------------------------------
