"""The viewers' window of the dashboard: the same definitions as the asset_daily view."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from primevod.core.qoe import quantile_cont, summarize


def session(asset: str, startup: float | None, watched: float, stalled_ms: float, errors: int):  # type: ignore[no-untyped-def]
    return {
        "asset_id": asset,
        "startup_ms": startup,
        "watch_seconds": watched,
        "rebuffer_ms": stalled_ms,
        "errors": errors,
    }


def test_window_and_worst_assets() -> None:
    window = summarize(
        [
            session("a", 400.0, 30.0, 1500.0, 0),
            session("a", 800.0, 10.0, 0.0, 1),
            session("a", None, 0.0, 0.0, 1),  # never started: no play, its error counts
            session("b", 1000.0, 5.0, 0.0, 0),
            session("c", 300.0, 60.0, 0.0, 0),
        ]
    )
    assert (window["sessions"], window["plays"], window["errors"]) == (5, 4, 2)
    assert window["watch_seconds"] == 105.0
    assert window["rebuffer_ratio"] == pytest.approx(1.5 / 106.5)
    assert window["startup_p95_ms"] == pytest.approx(970.0)
    worst = window["worst_assets"]
    assert [r["asset_id"] for r in worst] == ["a", "b", "c"]  # stalls, then slow start
    assert worst[0]["startup_p95_ms"] == pytest.approx(780.0)


def test_empty_window() -> None:
    window = summarize([])
    assert window["plays"] == 0 and window["startup_p95_ms"] is None
    assert window["rebuffer_ratio"] == 0.0 and window["worst_assets"] == []


@given(st.lists(st.floats(0, 1e6), min_size=1, max_size=50), st.floats(0, 1))
def test_quantile_lies_within_the_values(values: list[float], q: float) -> None:
    result = quantile_cont(values, q)
    assert result is not None and min(values) <= result <= max(values)
    assert quantile_cont(values, 0) == min(values) and quantile_cont(values, 1) == max(values)
