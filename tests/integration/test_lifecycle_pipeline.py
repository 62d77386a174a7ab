"""Lifecycle and the asset workflow, with real encodes: once the rules expire an asset's
source, its package still plays, and a retry fails with `source.expired` (refused up front,
and at ingest for a workflow that starts anyway), through the pipeline, the API and the CLI.
The lifecycle workflow runs in DBOS, at a server's start, and refuses a malformed document."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from support.cli import run_cli

from primevod.core.assets import AssetStatus
from primevod.core.errors import MediaError
from primevod.core.lifecycle import due_at
from primevod.pipeline import workflows
from primevod.pipeline.lifecycle import apply_plan, plan_actions, read_rules
from primevod.pipeline.runtime import runtime
from primevod.settings import Settings


@pytest.fixture(scope="module")
def rt(tmp_path_factory):
    from primevod import wiring

    home = tmp_path_factory.mktemp("lifecyclehome")
    rt = wiring.start(Settings(home=home, preset="ultrafast", encode_concurrency=1))
    yield rt
    wiring.stop()


def expire_source(rt, asset) -> dict[str, int]:
    """The seed's rules, as of the day the asset's source is due to expire."""
    created = rt.store.head(asset.source_bucket, asset.source_key).last_modified
    config, document = read_rules(rt.settings)
    plan = plan_actions(rt, config, as_of=due_at(created, 30), document=document)
    return apply_plan(rt, plan).counts()


def test_a_retry_after_the_source_expired_fails_with_source_expired(rt, clip) -> None:
    from primevod import wiring

    asset = wiring.submit_file(clip("small.mp4"))
    assert workflows.run_here(runtime(), asset.id).get_result()["status"] == "ready"
    assert expire_source(rt, rt.catalog.get_asset(asset.id)) == {"expire": 1}

    ready = rt.catalog.get_asset(asset.id)
    assert ready.status is AssetStatus.READY
    assert rt.store.get(rt.settings.destination_bucket, ready.hls_path).startswith(b"#EXTM3U")
    events = [e.type for e in rt.catalog.list_events(asset_id=asset.id)]
    assert events[-1] == "source.expired"

    with pytest.raises(MediaError) as refused:
        workflows.retry(runtime(), asset.id)
    assert refused.value.code == "source.expired" and refused.value.permanent
    assert asset.source_key in refused.value.message and "still plays" in refused.value.message
    rt.catalog.update_asset(asset.id, status=AssetStatus.FAILED)
    with pytest.raises(MediaError, match=r"^source\.expired: "):
        workflows.retry(runtime(), asset.id)
    assert "asset.retrying" not in [e.type for e in rt.catalog.list_events(asset_id=asset.id)]

    # a workflow started anyway (queued before the expiry) fails at ingest, never retried
    result = workflows.run_here(runtime(), asset.id).get_result()
    assert result["status"] == "failed" and result["error"]["code"] == "source.expired"
    failed = rt.catalog.get_asset(asset.id)
    assert failed.error.code == "source.expired" and failed.error.step == "ingest"
    steps = rt.catalog.get_execution(failed.execution_id).steps
    assert [(s.name, s.attempt) for s in steps] == [("ingest", 1)]


def test_the_lifecycle_workflow_runs_in_dbos_and_refuses_a_bad_document(rt, tmp_path: Path) -> None:
    from dbos import DBOS

    from primevod.pipeline.lifecycle_schedule import lifecycle_workflow
    from primevod.pipeline.retention import FINISHED, prune_workflow_records

    report = DBOS.start_workflow(lifecycle_workflow, datetime.now(UTC), None).get_result()
    assert report["result"] == "applied" and report["document"] == "default.json"
    assert "workflow_records" in report["pruned"]

    bad = tmp_path / "bad.json"
    bad.write_text('{"Rules": [{"ID": "x", "Status": "Enabled"}]}')
    rt.settings.lifecycle = bad
    try:
        refused = DBOS.start_workflow(lifecycle_workflow, datetime.now(UTC), None).get_result()
    finally:
        rt.settings.lifecycle = None
    assert refused["result"] == "refused" and "at least one action" in refused["error"]
    assert "pruned" not in refused

    # the records of finished workflows go once past their retention; pending ones never
    finished = DBOS.list_workflows(status=FINISHED, load_input=False, load_output=False)
    assert len(finished) >= 4  # two asset workflows and the two runs above
    assert prune_workflow_records(datetime.now(UTC) + timedelta(days=1)) == len(finished)
    assert DBOS.list_workflows(status=FINISHED, load_input=False, load_output=False) == []


def test_an_expired_source_still_plays_and_the_api_and_cli_refuse_its_retry(
    tmp_path: Path, clip
) -> None:
    from dbos import DBOSClient
    from support.server import Server

    home = tmp_path / "home"
    done = run_cli(
        home,
        "process",
        str(clip("small.mp4")),
        "--json",
        PRIMEVOD_LOG_FILE="true",
        PRIMEVOD_LOG_FORMAT="json",
    )
    assert done.returncode == 0, done.stderr
    asset_id = json.loads(done.stdout)["asset_id"]
    logged = [
        json.loads(line) for line in (home / "logs" / "primevod.log").read_text().splitlines()
    ]
    assert any(r.get("asset_id") == asset_id for r in logged)  # the JSON logs, in a file too
    applied = run_cli(home, "lifecycle", "apply", "--as-of", "+31d", "--json")
    assert applied.returncode == 0, applied.stderr
    assert json.loads(applied.stdout)["applied"] == {"expire": 1}

    server = Server(home)
    try:
        links = httpx.get(
            f"{server.base}/api/v1/assets/{asset_id}/playback", headers=server.auth("viewer")
        )
        assert links.status_code == 200, links.text
        master = httpx.get(links.json()["hls_url"])
        assert master.status_code == 200 and master.text.startswith("#EXTM3U")
        access = (home / "logs" / "edge-access.log").read_text().splitlines()
        assert json.loads(access[-1])["path"] == "master.m3u8"

        retry = httpx.post(
            f"{server.base}/api/v1/assets/{asset_id}/retry", headers=server.auth("uploader")
        )
        assert retry.status_code == 409 and retry.json()["detail"].startswith("source.expired:")
        events = httpx.get(
            f"{server.base}/api/v1/events",
            params={"asset_id": asset_id},
            headers=server.auth("viewer"),
        ).json()
        expired = [e for e in events if e["type"] == "source.expired"]
        assert expired and expired[0]["data"]["rule"] == "uploads-to-infrequent-access-then-expire"

        cli = run_cli(home, "assets", "retry", asset_id, "--json")
        assert cli.returncode == 2
        assert json.loads(cli.stdout)["error"]["code"] == "source.expired"

        # the server ran the lifecycle workflow at its start (once a day)
        client = DBOSClient(system_database_url=f"sqlite:///{home / 'workflows.db'}")
        try:
            started = f"primevod-lifecycle-start-{datetime.now(UTC).date().isoformat()}"
            deadline = time.monotonic() + 60
            while [w.status for w in client.list_workflows(workflow_ids=[started])] != ["SUCCESS"]:
                assert time.monotonic() < deadline, "the start run did not finish"
                time.sleep(0.5)
            assert client.retrieve_workflow(started).get_result()["result"] == "applied"
        finally:
            client.destroy()
    finally:
        server.stop()
