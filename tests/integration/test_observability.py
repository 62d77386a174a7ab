"""Observability: the metric arithmetic, alarm evaluation and event patterns (pure), then a
real server whose metrics move when things happen: a refused source counts as a rejected
upload and leaves the failure alarm OK, a failed workflow counts and trips the alarm through
the scheduled DBOS workflow, a rule routes the failure event, an expired
signature counts a 4xx, a failing canary trips the canary alarm."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from support.assets import process_corrupt


def _metric(text: str, name: str, **labels: str) -> float:
    """Sum of the samples of `name` whose labels include `labels` (0 when absent)."""
    total = 0.0
    for line in text.splitlines():
        m = re.match(rf"^{re.escape(name)}(?:\{{(.*)\}})? (\S+)$", line)
        if m and all(f'{k}="{v}"' in (m.group(1) or "") for k, v in labels.items()):
            total += float(m.group(2))
    return total


def _wait(check, timeout: float = 40.0, every: float = 0.5):
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        assert time.monotonic() < deadline, "timed out"
        time.sleep(every)


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    from support.server import Server

    home = tmp_path_factory.mktemp("obshome")
    env = {
        "PRIMEVOD_METRICS_FLUSH_SECONDS": "1",
        "PRIMEVOD_OBSERVE_CRON": "*/2 * * * * *",
        "PRIMEVOD_CANARY_INTERVAL_MINUTES": "0",
        # nothing listens on port 9 (discard): the canary must report it, not hang
        "PRIMEVOD_CANARY_URLS": '["http://127.0.0.1:9/vod/x/master.m3u8"]',
    }
    srv = Server(home, **env)
    yield srv
    srv.stop()


def test_failure_counts_trips_the_alarm_and_reaches_a_rule(server, corrupt, clip) -> None:
    admin = server.auth("admin")
    add = lambda body: httpx.post(  # noqa: E731
        f"{server.base}/api/v1/subscriptions", json=body, headers=admin
    )
    rule = add(
        {
            "kind": "queue",
            "name": "source-failures",
            "event_types": ["asset.failed"],
            "pattern": {"data": {"error": {"code": [{"prefix": "source."}]}}},
        }
    )
    assert rule.status_code == 201, rule.text
    other = add(
        {
            "kind": "queue",
            "name": "encode-failures",
            "pattern": {"data": {"error": {"code": [{"prefix": "encode."}]}}},
        }
    )
    alarms_q = add({"kind": "queue", "name": "alarms", "event_types": ["alarm.state_changed"]})
    bad = add({"kind": "queue", "name": "x", "pattern": {"type": "asset.failed"}})
    assert bad.status_code == 422 and "pattern" in bad.text
    before = _metric(
        httpx.get(f"{server.base}/metrics").text,
        "primevod_workflow_executions_total",
        status="rejected",
    )

    code = process_corrupt(server, corrupt["text"])["error"]["code"]
    assert code.startswith("source.")

    scrape = httpx.get(f"{server.base}/metrics")
    assert scrape.headers["content-type"].startswith("text/plain")
    # a refused source is a rejected upload, not a failed workflow
    after = _metric(scrape.text, "primevod_workflow_executions_total", status="rejected", code=code)
    assert after == before + 1
    assert _metric(scrape.text, "primevod_workflow_executions_total", status="failed") == 0
    assert "# TYPE primevod_step_duration_seconds histogram" in scrape.text
    assert _metric(scrape.text, "primevod_workers", state="live") == 1.0  # the server itself
    assert _metric(scrape.text, "primevod_workers", state="dead") == 0.0

    def rejected() -> bool:
        got = httpx.get(
            f"{server.base}/api/v1/metrics/series",
            params={"names": "uploads_rejected,workflows_failed", "minutes": 5},
            headers=admin,
        ).json()
        return any(v for _, v in got["uploads_rejected"]) and not any(
            v for _, v in got["workflows_failed"]
        )

    assert _wait(rejected)
    evaluated = httpx.post(f"{server.base}/api/v1/alarms/evaluate", headers=admin).json()
    assert {a["name"]: a["state"] for a in evaluated}["workflow-failures"] == "OK"

    # a job the pipeline itself ends in error (here: refused by a tiny monthly budget)
    refused = subprocess.run(
        [sys.executable, "-m", "primevod.cli.main", "process", str(clip("small.mp4")), "--json"],
        env={**server.env, "PRIMEVOD_BUDGET_MONTHLY_USD": "0.00000001"},  # below any encode
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert refused.returncode == 2, refused.stderr
    assert json.loads(refused.stdout)["error"]["code"] == "budget.exceeded"

    # the scheduled `observe` workflow (every 2 s here) evaluates the alarm
    def alarm_state() -> str | None:
        row = httpx.get(f"{server.base}/api/v1/alarms/workflow-failures", headers=admin).json()
        return row["state"] if row["state"] == "ALARM" else None

    assert _wait(alarm_state) == "ALARM"

    def receive(sub: dict) -> list[dict]:
        r = httpx.post(
            f"{server.base}/api/v1/subscriptions/{sub['id']}/receive",
            json={"max_messages": 10, "visibility_timeout": 0},
            headers=admin,
        )
        assert r.status_code == 200, r.text
        return r.json()

    got = _wait(lambda: receive(rule.json()), timeout=10)
    assert got[0]["event"]["type"] == "asset.failed"
    assert got[0]["event"]["data"]["error"]["code"] == code
    assert not receive(other.json())  # the pattern kept it out
    changes = _wait(lambda: receive(alarms_q.json()), timeout=10)
    alarm_events = [m["event"]["data"] for m in changes]
    assert any(e["alarm"] == "workflow-failures" and e["state"] == "ALARM" for e in alarm_events)

    # the CLI reads the same states
    listed = subprocess.run(
        [sys.executable, "-m", "primevod.cli.main", "alarms", "list", "--json"],
        env=server.env,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    states = {a["name"]: a["state"] for a in json.loads(listed.stdout)}
    assert states["workflow-failures"] == "ALARM"
    shown = subprocess.run(
        [sys.executable, "-m", "primevod.cli.main", "alarms", "show", "workflow-failures"],
        env=server.env,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    assert "ALARM" in shown.stdout and "workflows_failed" in shown.stdout
    missing = subprocess.run(
        [sys.executable, "-m", "primevod.cli.main", "alarms", "show", "nope"],
        env=server.env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert missing.returncode == 2 and "no alarm nope" in missing.stderr

    board = httpx.get(f"{server.base}/api/v1/dashboard?minutes=15", headers=admin).json()
    assert board["totals"]["workflows_failed"] >= 1
    assert any(f["code"] == code for f in board["failures"])
    assert (
        httpx.get(f"{server.base}/api/v1/dashboard", headers=server.auth("viewer")).status_code
        == 403
    )


def test_an_expired_signature_counts_a_4xx(server) -> None:
    from primevod.adapters.signing.key_store import KeyStore
    from primevod.core.signing import Signer

    def fours() -> float:
        text = httpx.get(f"{server.base}/metrics").text
        return _metric(text, "primevod_delivery_requests_total", **{"class": "4xx"})

    before = fours()
    key_id, private = KeyStore(server.home / "signing-keys").signing_key()
    url = Signer(key_id, private).signed_url(
        f"{server.base}/vod/00000000-0000-0000-0000-000000000000/master.m3u8",
        int(time.time()) - 60,
    )
    r = httpx.get(url)
    assert r.status_code == 403 and r.headers["X-PrimeVOD-Reason"] == "expired"
    assert _wait(lambda: fours() >= before + 1, timeout=10)


def test_a_failing_canary_trips_the_canary_alarm(server) -> None:
    admin = server.auth("admin")
    runs = httpx.post(f"{server.base}/api/v1/canary/run", headers=admin, timeout=120).json()
    assert runs and not runs[0]["passed"]
    assert runs[0]["failed"] or runs[0]["error"]
    history = httpx.get(f"{server.base}/api/v1/canary", headers=admin).json()
    assert history[0]["url"].endswith("/master.m3u8") and history[0]["passed"] is False
    evaluated = httpx.post(f"{server.base}/api/v1/alarms/evaluate", headers=admin).json()
    assert {a["name"]: a["state"] for a in evaluated}["canary-failure"] == "ALARM"
    text = httpx.get(f"{server.base}/metrics").text
    assert _metric(text, "primevod_canary_runs_total", result="failed") >= 1
    assert _metric(text, "primevod_alarm_state", alarm="canary-failure") == 1


def test_logs_are_json_lines_with_the_step_context(tmp_path: Path, clip) -> None:
    env = {
        **os.environ,
        "PRIMEVOD_HOME": str(tmp_path),
        "PRIMEVOD_LOG_FORMAT": "json",
        "PRIMEVOD_PRESET": "ultrafast",
        "PRIMEVOD_QUALITY_CHECK": "off",
    }
    done = subprocess.run(
        [sys.executable, "-m", "primevod.cli.main", "process", str(clip("small.mp4")), "--json"],
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert done.returncode == 0, done.stderr
    records = [json.loads(line) for line in done.stderr.splitlines() if line.startswith("{")]
    steps = {r["step"]: r for r in records if r.get("message", "").startswith("step ")}
    assert set(steps) >= {"ingest", "process", "publish"}
    asset_id = json.loads(done.stdout)["asset_id"]
    for record in steps.values():
        assert record["asset_id"] == asset_id
        assert record["execution_id"].startswith(asset_id)
        assert record["duration"] >= 0 and record["level"] == "INFO"
        assert len(record["trace_id"]) == 32


def test_one_trace_links_upload_workflow_and_publish(tmp_path: Path, clip) -> None:
    from support.server import Server
    from test_uploads_api import api, init, upload_parts

    server = Server(
        tmp_path,
        PRIMEVOD_TRACING="console",
        PRIMEVOD_QUALITY_CHECK="off",
        PRIMEVOD_CANARY_INTERVAL_MINUTES="0",
    )
    try:
        data = clip("small.mp4").read_bytes()
        session = init(server, data, "traced.mp4")
        parts = upload_parts(server, session, data)
        done = api(
            server,
            "POST",
            "/complete",
            json={"upload_id": session["upload_id"], "key": session["key"], "parts": parts},
        )
        assert done.status_code == 200, done.text
        asset_id = done.json()["asset_id"]

        def ready() -> dict | None:
            r = httpx.get(f"{server.base}/api/v1/assets/{asset_id}", headers=server.auth("admin"))
            return r.json() if r.json()["status"] in ("ready", "failed") else None

        asset = _wait(ready, timeout=120)
        assert asset["status"] == "ready", asset["error"]
    finally:
        server.stop()
    spans = [
        json.loads(line) for line in server.output().splitlines() if line.startswith('{"name"')
    ]
    trace_id = asset["metadata"]["trace_id"]
    ours = {s["name"] for s in spans if s["context"]["trace_id"] == f"0x{trace_id}"}
    assert "POST /api/v1/uploads/complete" in ours
    assert {"step ingest", "step process", "step publish"} <= ours
    # a real tree: the steps hang under the request that completed the upload
    (complete,) = [s for s in spans if s["name"] == "POST /api/v1/uploads/complete"]
    steps = [s for s in spans if s["name"].startswith("step ")]
    assert {s["parent_id"] for s in steps} == {complete["context"]["span_id"]}


def test_alarms_from_the_config_file_replace_and_add(tmp_path: Path) -> None:
    (tmp_path / "primevod.toml").write_text(
        """
[[alarms]]
name = "delivery-5xx-rate"
metric = "error_rate_5xx"
threshold = 0.005
comparison = ">"
evaluation_periods = 3
datapoints_to_alarm = 2

[[alarms]]
name = "queue-backlog"
metric = "queue_oldest_age_seconds"
statistic = "maximum"
threshold = 600
comparison = ">"
"""
    )
    env = {
        **os.environ,
        "PRIMEVOD_HOME": str(tmp_path / "home"),
        "PRIMEVOD_CONFIG": str(tmp_path / "primevod.toml"),
    }
    run = lambda *a: subprocess.run(  # noqa: E731
        [sys.executable, "-m", "primevod.cli.main", *a],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    listed = run("alarms", "list", "--json")
    assert listed.returncode == 0, listed.stderr
    rows = {a["name"]: a for a in json.loads(listed.stdout)}
    assert rows["delivery-5xx-rate"]["threshold"] == 0.005
    assert rows["delivery-5xx-rate"]["datapoints_to_alarm"] == 2
    assert rows["queue-backlog"]["state"] == "INSUFFICIENT_DATA"  # not evaluated yet
    assert "workflow-failures" in rows
    evaluated = run("alarms", "evaluate", "--json")
    states = {a["name"]: a["state"] for a in json.loads(evaluated.stdout)}
    assert states["queue-backlog"] == "INSUFFICIENT_DATA"  # no samples: missing data
    assert states["workflow-failures"] == "OK"
    (tmp_path / "primevod.toml").write_text(
        '[[alarms]]\nname = "x"\nmetric = "nope"\nthreshold = 1\ncomparison = ">"\n'
    )
    broken = run("alarms", "list")
    assert broken.returncode != 0 and "unknown metric" in broken.stderr + broken.stdout
    assert "Traceback" not in broken.stderr


def test_scheduled_canary_goes_round_every_ready_asset(tmp_path: Path) -> None:
    """Each run: the newest ready asset, then the least recently checked ones; successive
    runs of two cover all five ready assets, the failed one never."""
    import datetime as dt
    import uuid

    from primevod.adapters.catalog.sql_catalog import SqlCatalog
    from primevod.adapters.catalog.sql_observability import SqlObservability
    from primevod.core.assets import Asset, AssetStatus

    catalog = SqlCatalog(f"sqlite:///{tmp_path / 'catalog.db'}")
    obs = SqlObservability(catalog)
    start = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    ids = []
    for n in range(6):
        asset = Asset(
            id=str(uuid.uuid4()),
            status=AssetStatus.FAILED if n == 2 else AssetStatus.READY,
            source_bucket="source",
            source_key=f"k{n}",
            created_at=start + dt.timedelta(minutes=n),
            updated_at=start + dt.timedelta(minutes=n),
        )
        catalog.create_asset(asset)
        ids.append(asset.id)
    newest = ids[5]
    seen: list[str] = []
    for _ in range(4):
        picked = obs.canary_rotation(2)
        assert picked[0] == newest and len(picked) == 2
        assert ids[2] not in picked
        seen += picked
        for asset_id in picked:
            obs.record_canary("u", asset_id, {"passed": True})
    ready = {a for i, a in enumerate(ids) if i != 2}
    assert set(seen) == ready


def test_canary_schedule_ticks_only_on_its_minutes_when_it_can() -> None:
    from primevod.pipeline.schedules import _canary_cron

    assert _canary_cron(5) == "30 */5 * * * *"
    assert _canary_cron(15) == "30 */15 * * * *"
    # an interval that does not divide an hour ticks every minute; the workflow keeps the
    # multiples of the interval since the epoch
    assert _canary_cron(7) == "30 * * * * *"
    assert _canary_cron(90) == "30 * * * * *"
