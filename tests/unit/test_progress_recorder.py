"""Encode progress on its way to the catalog: the encode clock (FFmpeg's per-packet times),
the recorder that writes the asset's progress (every second and at every tenth), the words
for what an encode does, and the asset page's state built from an asset and its steps."""

from __future__ import annotations

import threading
from datetime import UTC, datetime
from typing import Any

import pytest

from primevod.core.asset_state import asset_state
from primevod.core.assets import Asset, AssetError, AssetStatus, Execution, StepRecord
from primevod.core.progress import EncodeClock, Progress, encode_activity, scaled
from primevod.pipeline import steps


class RecordingCatalog:
    def __init__(self) -> None:
        self.updates: list[dict[str, Any]] = []

    def update_asset(self, asset_id: str, **changes: Any) -> None:
        self.updates.append(changes)


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock(monkeypatch) -> Clock:
    fake = Clock()
    monkeypatch.setattr(steps.time, "monotonic", fake)
    return fake


def recorder(catalog: RecordingCatalog, cancelled: bool = False) -> Any:
    return steps._ProgressRecorder(
        catalog, "a1", threading.Event(), lambda: cancelled, interval=1.0
    )


def at(fraction: float, activity: str | None = "encoding 2 renditions 360p…234p") -> Progress:
    return Progress(fraction=fraction, out_time=fraction * 40, activity=activity)


def test_a_fast_encode_is_recorded_at_every_tenth(clock) -> None:
    catalog = RecordingCatalog()
    record = recorder(catalog)
    for percent in range(0, 100):  # a hundred reports within 0.99 s
        record(at(percent / 100))
        clock.now += 0.01
    recorded = [u["progress"] for u in catalog.updates]
    assert recorded == [round(t / 10 * 0.95, 4) for t in range(10)]
    assert all(u["activity"] == "encoding 2 renditions 360p…234p" for u in catalog.updates)


def test_a_slow_encode_is_recorded_every_second(clock) -> None:
    catalog = RecordingCatalog()
    record = recorder(catalog)
    for step in range(30):  # 3 s within the first tenth
        record(at(0.001 * step))
        clock.now += 0.1
    assert len(catalog.updates) == 3


def test_progress_events_come_at_the_quarters_and_done_means_storing(clock) -> None:
    catalog = RecordingCatalog()
    record = recorder(catalog)
    for percent in range(0, 100, 5):
        record(at(percent / 100))
        clock.now += 2
    record(Progress(fraction=1.0, out_time=40, done=True))
    events = [u["event_data"]["encoded_percent"] for u in catalog.updates if "event_type" in u]
    assert events == [25, 50, 75]
    assert catalog.updates[-1]["progress"] == 0.95
    assert catalog.updates[-1]["activity"] == steps.STORING


def test_a_cancelled_workflow_cancels_the_encode_even_between_records(clock) -> None:
    catalog = RecordingCatalog()
    record = recorder(catalog, cancelled=True)
    record(at(0.0))
    assert record.cancel.is_set()


def test_the_encode_clock_reports_each_percent_and_keeps_the_latest_time() -> None:
    clock = EncodeClock(duration=20.0, started=0.0)
    reports = [clock.tick(f"{t / 30:.5f}", now=t / 300) for t in range(0, 601)]
    fractions = [r.fraction for r in reports if r is not None]
    assert [round(f, 2) for f in fractions] == [p / 100 for p in range(0, 101)]
    assert clock.tick("N/A", now=2.1) is None
    assert clock.tick("5.0", now=2.1) is None  # same percent, within the interval
    later = clock.tick("5.0", now=3.0)  # an earlier packet (B-frames): no step back
    assert later is not None and later.fraction == 1.0
    behind = clock.at_least(Progress(fraction=0.1, out_time=2.0))
    assert behind.fraction == 1.0 and behind.out_time == 20.0


def test_words_for_an_encode_and_the_two_passes() -> None:
    assert encode_activity([234, 360, 540, 720]) == "encoding 4 renditions 720p…234p"
    assert encode_activity([1080]) == "encoding 1 rendition 1080p"
    assert encode_activity([], 2) == "encoding 2 audio renditions"
    second = scaled(Progress(fraction=0.5, out_time=10), 0.5, 0.5, "second")
    assert second.fraction == 0.75 and second.activity == "second"


def _step(name: str, status: str) -> StepRecord:
    return StepRecord(name=name, status=status, started_at=datetime.now(UTC))


def _asset(status: AssetStatus, **fields: Any) -> Asset:
    """Asset a1 in `status`, with the other `fields` its state is built from."""
    return Asset(id="a1", source_bucket="source", source_key="k", status=status, **fields)


def test_the_asset_state_follows_the_steps() -> None:
    asset = _asset(
        AssetStatus.PROCESSING,
        progress=0.4275,
        activity="encoding 4 renditions 720p…234p",
        execution_id="a1.1",
    )
    records = [_step("ingest", "succeeded"), _step("budget", "succeeded"), _step("plan", "running")]
    execution = Execution(id="a1.1", asset_id="a1", status="running", steps=records)
    state = asset_state(asset, execution)
    assert state.stage == "process" and state.percent == 42
    assert state.stages == {
        "ingest": "succeeded",
        "process": "running",
        "quality": "pending",
        "publish": "pending",
    }
    # between two steps: the next one
    execution.steps = [*records[:2], _step("plan", "succeeded"), _step("chunk-0", "succeeded")]
    assert asset_state(asset, execution).stage == "quality"


def test_a_failed_asset_names_its_stage_and_error() -> None:
    asset = _asset(
        AssetStatus.FAILED,
        error=AssetError(code="source.unreadable", step="ingest", message="not media"),
    )
    execution = Execution(id="a1.1", asset_id="a1", status="failed")
    execution.steps = [_step("ingest", "failed")]
    state = asset_state(asset, execution)
    assert state.stage == "ingest" and state.stages["ingest"] == "failed"
    assert (state.error_code, state.error_message) == ("source.unreadable", "not media")
