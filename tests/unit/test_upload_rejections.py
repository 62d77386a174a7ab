"""A refused source (`source.*`: a corrupt, too long or unsupported upload) counts as a
rejected upload, not as a workflow failure: the workflow-failures alarm stays OK on it and
goes to ALARM on a real failure."""

from __future__ import annotations

import pytest

from primevod.core.alarms import DEFAULT_ALARMS, AlarmState, evaluate, period_values
from primevod.core.errors import ERROR_CODES
from primevod.core.metrics import Aggregator, Window, failure_outcome, series_value

T0 = 1_800_000_000 - 1_800_000_000 % 60  # a minute boundary
EXECUTIONS = "primevod_workflow_executions_total"
FAILURES = next(a for a in DEFAULT_ALARMS if a.name == "workflow-failures")


@pytest.mark.parametrize("code", sorted(ERROR_CODES))
def test_every_source_code_is_a_rejection_and_nothing_else_is(code: str) -> None:
    expected = "rejected" if code.startswith("source.") else "failed"
    assert failure_outcome(code) == expected


def _window(*codes: str) -> Window:
    """The points a worker stores after executions end with these error codes, counted as
    the workflow's failure step counts them."""
    agg = Aggregator(clock=lambda: T0 + 10.0)
    for code in codes:
        agg.inc(EXECUTIONS, status=failure_outcome(code), stage="ingest", code=code)
    flush = agg.drain()
    return Window(
        [(name, labels, minute, value) for (minute, name, labels), value in flush.counters.items()]
    )


def _alarm(window: Window) -> AlarmState:
    return evaluate(FAILURES, period_values(FAILURES, window, T0 + 30), None).state


def test_a_corrupt_upload_is_rejected_and_the_alarm_stays_ok() -> None:
    window = _window("source.truncated")
    assert series_value("uploads_rejected", window, T0, T0 + 60) == 1
    assert series_value("workflows_failed", window, T0, T0 + 60) == 0
    assert _alarm(window) is AlarmState.OK


def test_a_real_failure_still_trips_the_alarm() -> None:
    window = _window("source.unreadable", "source.too_long", "encode.failed")
    assert series_value("uploads_rejected", window, T0, T0 + 60) == 2
    assert series_value("workflows_failed", window, T0, T0 + 60) == 1
    assert _alarm(window) is AlarmState.ALARM
