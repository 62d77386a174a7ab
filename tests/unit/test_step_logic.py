"""The pipeline's step logic on in-memory fakes (no FFmpeg, no database, no DBOS):
failure mapping and step records, publishing a staged package, cancel, failure cleanup."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import pytest
from fakes import FakeCatalog, FakeCosts, FakeStore

from primevod.core.assets import Asset, AssetError, AssetStatus
from primevod.core.errors import MediaError
from primevod.core.execution import StagedPackage, StepOutcome
from primevod.core.ladder import Ladder
from primevod.core.layout import package_prefix
from primevod.core.outputs import PackageResult
from primevod.pipeline import steps
from primevod.pipeline.step_runner import run_step

DEST = "destination"


def runtime(tmp_path: Path) -> SimpleNamespace:
    """The fields of a Runtime the steps read, filled with fakes."""
    catalog, store = FakeCatalog(), FakeStore()
    catalog.create_asset(Asset(id="a1", source_bucket="source", source_key="uploads/a1/x.mp4"))
    settings = SimpleNamespace(destination_bucket=DEST, work_dir=tmp_path / "work")
    return SimpleNamespace(catalog=catalog, store=store, settings=settings, costs=FakeCosts())


def staged(execution_id: str) -> StagedPackage:
    result = PackageResult(
        output_dir="/nowhere",
        master="master.m3u8",
        manifest="manifest.mpd",
        duration=4.0,
        ladder=Ladder(
            policy="default", rungs=[], audio=[], segment_seconds=2, gop_seconds=2, frame_rate="25"
        ),
        renditions=[],
        variants=[],
        poster="thumbs/poster.jpg",
    )
    return StagedPackage(bucket=DEST, prefix=package_prefix("a1", execution_id), result=result)


def test_a_permanent_error_is_a_failed_outcome_and_a_failed_step(tmp_path) -> None:
    rt = runtime(tmp_path)

    def body() -> StepOutcome:
        raise MediaError("source.truncated", "the file ends early")

    outcome = run_step(rt.catalog, "ingest", "a1", "a1.1", body)
    assert not outcome.ok and outcome.error is not None
    assert (outcome.error.code, outcome.error.step) == ("source.truncated", "ingest")
    [row] = rt.catalog.steps.values()
    assert (row.name, row.status, row.error) == (
        "ingest",
        "failed",
        "source.truncated: the file ends early",
    )


@pytest.mark.parametrize(
    "error", [MediaError("encode.failed", "FFmpeg exited 1"), OSError("disk full")]
)
def test_a_transient_error_is_raised_for_the_retry_policy(tmp_path, error) -> None:
    rt = runtime(tmp_path)

    def body() -> StepOutcome:
        raise error

    with pytest.raises(type(error)):
        run_step(rt.catalog, "process", "a1", "a1.1", body)
    [row] = rt.catalog.steps.values()
    assert row.status == "failed" and row.error


def test_each_attempt_is_its_own_step_record_and_notes_are_kept(tmp_path) -> None:
    rt = runtime(tmp_path)
    run_step(rt.catalog, "quality", "a1", "a1.1", lambda: StepOutcome(note="warning: low"))
    run_step(rt.catalog, "quality", "a1", "a1.1", lambda: StepOutcome())
    rows = list(rt.catalog.steps.values())
    assert [(r.status, r.error) for r in rows] == [
        ("succeeded", "warning: low"),
        ("succeeded", None),
    ]


def test_a_mapping_can_keep_going_after_a_media_error(tmp_path) -> None:
    rt = runtime(tmp_path)

    def body() -> StepOutcome:
        raise MediaError("quality.unmeasured", "no decoder")

    outcome = run_step(
        rt.catalog, "quality", "a1", "a1.1", body, on_media_error=lambda e: StepOutcome()
    )
    assert outcome.ok
    assert next(iter(rt.catalog.steps.values())).status == "failed"  # recorded all the same


def test_publish_points_the_asset_at_the_staged_package_and_drops_the_old(tmp_path) -> None:
    rt = runtime(tmp_path)
    old = package_prefix("a1", "a1.1")
    rt.catalog.update_asset("a1", output_bucket=DEST, output_prefix=old)
    rt.store.objects[(DEST, old + "master.m3u8")] = b"#EXTM3U"
    package = staged("a1.2")
    rt.store.objects[(DEST, package.prefix + "master.m3u8")] = b"#EXTM3U"
    outcome = steps.publish(rt, "a1", "a1.2", package, cancelled=lambda: False)
    assert outcome.ok and not outcome.cancelled
    asset = rt.catalog.get_asset("a1")
    assert asset.status is AssetStatus.READY and asset.progress == 1.0
    assert asset.hls_path == "assets/a1/2/master.m3u8"
    assert asset.thumbnails["poster"] == "assets/a1/2/thumbs/poster.jpg"
    assert rt.store.keys(DEST) == ["assets/a1/2/master.m3u8"]  # the replaced package went
    assert rt.catalog.event_types()[-2:] == ["asset.publishing", "asset.ready"]


def test_publish_of_a_cancelled_workflow_publishes_nothing(tmp_path) -> None:
    rt = runtime(tmp_path)
    package = staged("a1.1")
    rt.store.objects[(DEST, package.prefix + "master.m3u8")] = b"#EXTM3U"
    outcome = steps.publish(rt, "a1", "a1.1", package, cancelled=lambda: True)
    assert outcome.cancelled
    assert rt.store.keys(DEST) == []
    assert rt.catalog.get_asset("a1").status is not AssetStatus.READY
    [row] = rt.catalog.steps.values()
    assert row.error == "workflow.cancelled: cancelled on request"


def test_a_failure_removes_what_its_execution_staged_but_never_the_live_package(
    tmp_path,
) -> None:
    rt = runtime(tmp_path)
    live = package_prefix("a1", "a1.1")
    rt.catalog.update_asset("a1", output_bucket=DEST, output_prefix=live)
    rt.store.objects[(DEST, live + "master.m3u8")] = b"live"
    rt.store.objects[(DEST, package_prefix("a1", "a1.2") + "master.m3u8")] = b"staged"
    error = AssetError(code="quality.below_target", step="quality", message="VMAF 80 < 90")
    steps.record_failure(rt, "a1", "a1.2", error)
    assert rt.store.keys(DEST) == ["assets/a1/1/master.m3u8"]
    asset = rt.catalog.get_asset("a1")
    assert asset.status is AssetStatus.FAILED and asset.error == error
    assert rt.catalog.executions["a1.2"] == ("failed", error)
    assert rt.catalog.event_types()[-1] == "asset.failed"
