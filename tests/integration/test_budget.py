"""The budget guardrail on real encodes: a job over a $0.00000001 budget is refused with
`budget.exceeded` before any encode (exit 2, a failed asset, nothing staged), an admin's
override passes and is recorded, the API answers 402 once the month is spent and 403 to an
uploader asking to override; and the cost report shows estimate against actual."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest
from support.cli import run_cli
from support.server import Server

from primevod.adapters.catalog.sql_catalog import SqlCatalog
from primevod.adapters.catalog.sql_costs import SqlCosts

TINY = "0.00000001"  # a millionth of a cent: less than any encode


def catalog(home: Path) -> SqlCatalog:
    return SqlCatalog(f"sqlite:///{home / 'catalog.db'}", migrate=False)


def test_a_job_over_the_budget_is_refused_before_any_encode(tmp_path: Path, clip) -> None:
    done = run_cli(
        tmp_path, "process", str(clip("small.mp4")), "--json", PRIMEVOD_BUDGET_MONTHLY_USD=TINY
    )
    assert done.returncode == 2, done.stdout + done.stderr
    body = json.loads(done.stdout)
    assert body["status"] == "failed" and body["error"]["code"] == "budget.exceeded"
    assert body["error"]["step"] == "budget" and "budget of $0.00000001" in body["error"]["message"]
    assert "budget.exceeded" in done.stderr
    records = catalog(tmp_path)
    asset_id = body["asset_id"]
    execution = records.list_executions(asset_id)[0]
    assert [s.name for s in execution.steps] == ["ingest", "budget"]  # no process step ran
    assert not (tmp_path / "store" / "buckets" / "destination" / "assets" / asset_id).exists()
    assert "budget.exceeded" in [e.type for e in records.list_events(asset_id=asset_id)]
    [row] = SqlCosts(records).list_costs()
    assert row["state"] == "refused" and row["estimate_usd"] > 0
    asset = records.get_asset(asset_id)
    assert asset.cost is not None and asset.cost["budget"]["allowed"] is False


def test_the_estimate_prices_the_codec_families_the_asset_asks_for(tmp_path: Path, clip) -> None:
    """`--codecs h264,av1` encodes AV1 rungs too: the budget must price them before the encode
    (the sample encodes them; their CPU share is SVT-AV1's, not x264's)."""
    done = run_cli(
        tmp_path,
        "process",
        str(clip("small.mp4")),
        "--codecs",
        "h264,av1",
        "--json",
        PRIMEVOD_BUDGET_MONTHLY_USD=TINY,
    )
    assert done.returncode == 2, done.stdout + done.stderr
    estimate = catalog(tmp_path).get_asset(json.loads(done.stdout)["asset_id"]).cost["estimate"]
    assert estimate["codecs"] == "h264,av1"
    names = [rung["name"] for rung in estimate["rungs"]]
    assert any(n.startswith("av1-") for n in names) and any(not n.startswith("av1-") for n in names)


def test_an_override_passes_and_is_recorded(tmp_path: Path, clip) -> None:
    done = run_cli(
        tmp_path,
        "process",
        str(clip("small.mp4")),
        "--override-budget",
        "--json",
        PRIMEVOD_BUDGET_MONTHLY_USD=TINY,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    asset_id = json.loads(done.stdout)["asset_id"]
    records = catalog(tmp_path)
    assert "budget.override" in [e.type for e in records.list_events(asset_id=asset_id)]
    [row] = SqlCosts(records).list_costs()
    assert row["state"] == "done" and row["override"] and row["actual"]["cpu_seconds"] > 0
    report = run_cli(tmp_path, "cost", "report", "--json", PRIMEVOD_BUDGET_MONTHLY_USD=TINY)
    data = json.loads(report.stdout)
    assert data["budget_usd"] == float(TINY) and data["used_ratio"] > 1
    [job] = data["jobs"]
    assert job["asset_id"] == asset_id and job["override"] and job["cpu_seconds"] > 0
    # the month is spent now: a retry without the override is refused before it is queued
    retry = run_cli(tmp_path, "assets", "retry", asset_id, PRIMEVOD_BUDGET_MONTHLY_USD=TINY)
    assert retry.returncode == 2 and "budget.exceeded" in retry.stderr


@pytest.fixture
def spent_server(tmp_path: Path):
    server = Server(tmp_path, PRIMEVOD_BUDGET_MONTHLY_USD="0.5")
    costs = SqlCosts(server.catalog)
    costs.reserve(
        execution_id="a.1",
        asset_id="a",
        target="local",
        estimate={},
        estimate_usd=0.6,
        budget_usd=None,
    )
    yield server
    server.stop()


def test_the_api_refuses_new_uploads_once_the_month_is_spent(spent_server: Server) -> None:
    init = {"filename": "clip.mp4", "content_type": "video/mp4", "size": 1000}
    url = f"{spent_server.base}/api/v1/uploads/init"
    refused = httpx.post(url, json=init, headers=spent_server.auth("uploader"))
    assert refused.status_code == 402 and "budget.exceeded" in refused.json()["detail"]
    sneaky = {**init, "metadata": {"budget_override": "true"}}
    assert httpx.post(url, json=sneaky, headers=spent_server.auth("uploader")).status_code == 402
    asked = httpx.post(
        url, json={**init, "override_budget": True}, headers=spent_server.auth("uploader")
    )
    assert asked.status_code == 403 and "admin" in asked.json()["detail"]
    admin = httpx.post(
        url, json={**init, "override_budget": True}, headers=spent_server.auth("admin")
    )
    assert admin.status_code == 201, admin.text
    dashboard = httpx.get(
        f"{spent_server.base}/api/v1/dashboard", headers=spent_server.auth("admin")
    )
    cost = dashboard.json()["cost"]
    assert cost["budget_usd"] == 0.5 and cost["used_ratio"] == pytest.approx(1.2)
