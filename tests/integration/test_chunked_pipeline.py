"""Split-and-stitch in the durable pipeline, in this process (one worker runs the chunk
queue), on SQLite and on PostgreSQL: a title cut into chunks is published as one valid
package, nothing of the chunks stays behind, a truncated source fails with a readable reason,
and a cancel stops every chunk encode it queued."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from dbos import DBOS

from primevod.adapters.media.package_validator import validate_package
from primevod.pipeline import workflows
from primevod.pipeline.runtime import Runtime, runtime
from primevod.settings import Settings


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def rt(request, tmp_path_factory) -> Iterator[Runtime]:
    from primevod import wiring

    home = tmp_path_factory.mktemp("home")
    databases = {}
    if request.param == "postgres":
        new_database = request.getfixturevalue("postgres")
        databases = {"database_url": new_database(), "dbos_database_url": new_database()}
    settings = Settings(
        home=home,
        preset="ultrafast",
        encode_concurrency=1,
        chunk_concurrency=2,
        chunk_seconds=2.0,
        segment_seconds=1.0,
        quality_check="off",
        canary_interval_minutes=0,
        **databases,
    )
    started = wiring.start(settings)
    yield started
    wiring.stop()


def chunk_keys(rt: Runtime, asset_id: str) -> list[str]:
    return [
        o.key for o in rt.store.list(rt.settings.destination_bucket, f"assets/{asset_id}/chunks/")
    ]


def children(execution_id: str) -> list[str]:
    rows = DBOS.list_workflows(load_input=False, load_output=False)
    return [w.status for w in rows if w.workflow_id.startswith(f"{execution_id}-")]


def test_a_title_in_chunks_is_published_as_one_package(rt: Runtime, clip) -> None:
    from primevod import wiring

    asset = wiring.submit_file(clip("long9s.mp4"), title="Nine seconds")
    result = workflows.run_here(runtime(), asset.id).get_result()
    assert result["status"] == "ready", result
    asset = rt.catalog.get_asset(asset.id)
    names = [s.name for s in rt.catalog.get_execution(asset.execution_id).steps]
    # 9 s in 2 s chunks on a 1 s grid: 0-2, 2-4, 4-6, 6-8, 8-9
    assert names[:3] == ["ingest", "budget", "plan"] and names[-2:] == ["stitch", "publish"]
    assert sorted(names[3:-2]) == ["audio", "chunk-0", "chunk-1", "chunk-2", "chunk-3", "chunk-4"]
    assert asset.timings["chunks"] == 5 and asset.timings["encode"] > 0
    assert asset.progress == 1.0 and asset.thumbnails["poster"]
    assert chunk_keys(rt, asset.id) == []  # stitched: the chunks are gone
    local = Path(rt.store.path_of(rt.settings.destination_bucket, asset.hls_path)).parent
    report = validate_package(local)
    assert report.passed, report.failures
    assert [r["kind"] for r in asset.renditions] == ["video", "audio"]
    assert not (rt.settings.work_dir / asset.id).exists()


def test_a_short_title_is_encoded_in_one_pass(rt: Runtime, clip) -> None:
    from primevod import wiring

    asset = wiring.submit_file(clip("small.mp4"))  # 3 s: shorter than one 5 s chunk
    rt.settings.chunk_seconds = 5.0
    try:
        assert workflows.run_here(runtime(), asset.id).get_result()["status"] == "ready"
    finally:
        rt.settings.chunk_seconds = 2.0
    steps = rt.catalog.get_execution(rt.catalog.get_asset(asset.id).execution_id).steps
    assert [s.name for s in steps] == ["ingest", "budget", "process", "publish"]


def test_a_failed_chunk_fails_the_asset_and_keeps_nothing(
    rt: Runtime, clip, monkeypatch: pytest.MonkeyPatch
) -> None:
    """One chunk's source stretch cannot be decoded (injected: the real encode of the other
    chunks runs): the asset fails with that chunk's reason, its siblings are cancelled, and
    nothing of the execution stays in the store."""
    from primevod import wiring
    from primevod.core.errors import MediaError

    real = rt.media.encode_chunk

    def broken_at_two(source, probe, plan, chunk, out_dir, **kw):
        if chunk.index == 2:
            raise MediaError("source.truncated", "chunk 2 decoded to 0 of 50 frames")
        return real(source, probe, plan, chunk, out_dir, **kw)

    monkeypatch.setattr(rt.media, "encode_chunk", broken_at_two)
    asset = wiring.submit_file(clip("long9s.mp4"))
    result = workflows.run_here(runtime(), asset.id).get_result()
    assert result["status"] == "failed"
    asset = rt.catalog.get_asset(asset.id)
    assert (asset.error.code, asset.error.step) == ("source.truncated", "chunk"), asset.error
    assert "chunk 2 decoded to 0 of 50 frames" in asset.error.message
    assert rt.store.exists(asset.source_bucket, asset.source_key)  # the source is kept
    deadline = time.monotonic() + 20
    while {"PENDING", "ENQUEUED"} & set(children(asset.execution_id)):
        assert time.monotonic() < deadline, children(asset.execution_id)
        time.sleep(0.2)
    time.sleep(1.5)  # a sibling cancelled mid-upload removes what it stored
    assert list(rt.store.list(rt.settings.destination_bucket, f"assets/{asset.id}/")) == []
    steps = rt.catalog.get_execution(asset.execution_id).steps
    assert [(s.attempt, s.status) for s in steps if s.name == "chunk-2"] == [(1, "failed")]


def test_cancel_stops_the_chunk_encodes(rt: Runtime, bbb) -> None:
    from primevod import wiring

    asset = wiring.submit_file(bbb)
    rt.catalog.update_asset(asset.id, metadata={"ladder": "apple"})
    workflows.start(runtime(), asset.id)
    deadline = time.monotonic() + 90
    while not any(s.startswith("chunk-") for s in step_names(rt, asset.id)):
        assert time.monotonic() < deadline, "no chunk encode started"
        time.sleep(0.1)
    execution_id = workflows.cancel(runtime(), asset.id)
    assert execution_id is not None
    deadline = time.monotonic() + 20
    while {"PENDING", "ENQUEUED"} & set(children(execution_id)):
        assert time.monotonic() < deadline, children(execution_id)
        time.sleep(0.2)
    time.sleep(1.5)  # an upload that raced the cancel is removed by its own step
    assert chunk_keys(rt, asset.id) == []
    assert rt.catalog.get_asset(asset.id).error.code == "workflow.cancelled"


def step_names(rt: Runtime, asset_id: str) -> list[str]:
    execution_id = rt.catalog.get_asset(asset_id).execution_id
    try:
        return [s.name for s in rt.catalog.get_execution(execution_id).steps]
    except LookupError:
        return []


def test_scratch_of_finished_executions_is_swept(rt: Runtime, clip) -> None:
    """A worker that ran chunks of another worker's asset keeps its copy of the source for
    its next chunk; once the execution has finished, its sweep removes the copy."""
    from primevod import wiring
    from primevod.pipeline import liveness

    asset = wiring.submit_file(clip("small.mp4"))
    assert workflows.run_here(runtime(), asset.id).get_result()["status"] == "ready"
    execution_id = rt.catalog.get_asset(asset.id).execution_id
    finished = rt.settings.work_dir / asset.id / execution_id / "source"
    unknown = rt.settings.work_dir / "other-asset" / "other-asset.1" / "source"
    for folder in (finished, unknown):
        folder.mkdir(parents=True)
        (folder / "copy.mp4").write_bytes(b"x" * 1000)
    assert liveness.clean_finished_scratch(rt) >= 1  # earlier tests' cancelled runs count too
    assert not (rt.settings.work_dir / asset.id).exists()
    assert unknown.is_dir()  # not an execution the catalog knows as finished: kept
