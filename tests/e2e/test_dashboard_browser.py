"""The /dashboard page in a real browser over a real server with real activity: a corrupt
upload is rejected (a rejected upload, not a failed workflow), a clip is published, the edge
serves signed requests and refuses an unsigned one, the canary runs. The charts draw on their
canvases over the minutes that have data, the failure is listed with its error code, alarm
states and the queue tile are shown, and the console stays clean."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time

import httpx
import pytest
from support.browser import needs_chromium, sign_in

pytestmark = needs_chromium

CHARTS = (
    "workflows",
    "requests",
    "bytes-out",
    "cache-hit",
    "latency",
    "queue",
    "steps",
    "encode",
    "uploads",
    "canary",
)


def _process(env: dict[str, str], path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "primevod.cli.main", "process", str(path), "--json"],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


def _wait(check, timeout: float = 20.0, every: float = 0.5):
    deadline = time.monotonic() + timeout
    while True:
        got = check()
        if got or time.monotonic() > deadline:
            return got
        time.sleep(every)


@pytest.fixture(scope="module")
def site(tmp_path_factory, clip, corrupt):
    from support.server import Server

    home = tmp_path_factory.mktemp("dashhome")
    extra = {
        "PRIMEVOD_METRICS_FLUSH_SECONDS": "1",
        "PRIMEVOD_CANARY_INTERVAL_MINUTES": "0",  # the test runs it once, on demand
        "PRIMEVOD_QUALITY_CHECK": "off",
        "PRIMEVOD_BUDGET_MONTHLY_USD": "5",
    }
    server = Server(home, **extra)
    env = {**os.environ, "PRIMEVOD_HOME": str(home), "PRIMEVOD_PRESET": "ultrafast", **extra}
    try:
        failed = _process(env, corrupt["text"])
        assert failed.returncode == 2, failed.stderr
        failure = json.loads(failed.stdout)
        ready = _process(env, clip("small.mp4"))
        assert ready.returncode == 0, ready.stderr
        asset = json.loads(ready.stdout)["asset_id"]

        # the edge: signed requests are served, an unsigned one is refused
        links = httpx.get(
            f"{server.base}/api/v1/assets/{asset}/playback", headers=server.auth("viewer")
        ).json()
        master = httpx.get(links["hls_url"])
        assert master.status_code == 200 and master.text.startswith("#EXTM3U")
        assert httpx.get(links["dash_url"]).status_code == 200
        unsigned = httpx.get(f"{server.base}/vod/{asset}/master.m3u8")
        assert unsigned.status_code == 403

        admin = server.auth("admin")
        runs = httpx.post(f"{server.base}/api/v1/canary/run", headers=admin, timeout=120)
        assert runs.status_code == 200, runs.text

        # wait until the metrics (the server's edge requests, the rejected upload) are in the
        # store, then evaluate the alarms on them
        def flushed() -> bool:
            board = httpx.get(f"{server.base}/api/v1/dashboard?minutes=15", headers=admin)
            totals = board.json()["totals"]
            return bool(
                totals.get("requests_2xx")
                and totals.get("requests_4xx")
                and totals.get("uploads_rejected")
            )

        assert _wait(flushed), "the activity never reached the dashboard"
        evaluated = httpx.post(f"{server.base}/api/v1/alarms/evaluate", headers=admin).json()
        # a corrupt upload is the uploader's to fix, not a pipeline failure
        assert {a["name"]: a["state"] for a in evaluated}["workflow-failures"] == "OK"
        yield {"server": server, "asset": asset, "failed": failure}
    finally:
        server.stop()


# For each chart canvas: its size and how many pixels are not transparent (a fresh canvas of
# the same size has none).
DRAWN = """
() => [...document.querySelectorAll('[data-testid^=chart-] canvas')].map((c) => {
  const data = c.getContext('2d').getImageData(0, 0, c.width, c.height).data
  let painted = 0
  for (let i = 3; i < data.length; i += 4) if (data[i] !== 0) painted += 1
  const blank = document.createElement('canvas')
  blank.width = c.width
  blank.height = c.height
  return {
    id: c.closest('[data-testid^=chart-]').dataset.testid,
    width: c.width,
    height: c.height,
    painted,
    differs: c.toDataURL() !== blank.toDataURL(),
  }
})
"""


def test_dashboard_renders_charts_failures_alarms_and_queue(browser, site, tmp_path) -> None:
    server = site["server"]
    context = browser.new_context(viewport={"width": 1300, "height": 1000})
    sign_in(context, server, "admin")
    page = context.new_page()
    problems: list[str] = []
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: problems.append(str(e)))
    page.on(
        "response",
        lambda r: problems.append(f"{r.status} {r.url}") if r.status >= 400 else None,
    )

    page.goto(server.base + "/dashboard")
    page.wait_for_selector("[data-testid=chart-workflows] canvas", timeout=20_000)

    charts = page.evaluate(DRAWN)
    assert {c["id"] for c in charts} == {f"chart-{name}" for name in CHARTS}
    for chart in charts:
        assert chart["width"] > 100 and chart["height"] > 100, chart
        assert chart["painted"] > 500 and chart["differs"], chart  # axes, grid, lines
    # the workflows and delivery charts have data, so no "no data yet" on them
    assert page.get_attribute("[data-testid=chart-workflows]", "data-empty") == "false"
    assert page.get_attribute("[data-testid=chart-requests]", "data-empty") == "false"

    # the corrupt upload, with its error code and a link to its page
    code = site["failed"]["error"]["code"]
    row = page.locator("[data-testid=failure-row]", has_text=code).first
    assert row.is_visible()
    assert row.locator("[data-testid=failure-code]").inner_text() == code
    href = row.locator("a").get_attribute("href")
    assert href and href.startswith("/watch/")

    alarms = page.locator("[data-testid=alarm-row]")
    assert alarms.count() >= 1
    states = page.locator("[data-testid=alarm-row] [data-testid=alarm-state]").all_inner_texts()
    assert len(states) == alarms.count()
    assert all(s in {"OK", "ALARM", "INSUFFICIENT DATA"} for s in states), states
    failures_alarm = page.locator("[data-testid=alarm-row]", has_text="workflow-failures")
    assert failures_alarm.get_attribute("data-state") == "OK"  # a rejected upload, not a failure
    assert page.locator("[data-testid=total-uploads-rejected]").inner_text() == "1"
    assert page.locator("[data-testid=total-workflows-failed]").inner_text() == "0"

    assert page.locator("[data-testid=queue-depth]").inner_text() == "0"
    assert page.locator("[data-testid=queue-oldest]").is_visible()
    # the canary's run on the ready asset passed through this server's signed edge
    canary = page.locator("[data-testid=canary-row]").first
    assert f"/vod/{site['asset']}/" in canary.inner_text()
    assert canary.get_attribute("data-passed") == "true"  # through the signed edge
    assert canary.locator(".badge").inner_text() == "PASS"
    # the cost panel: the ready asset's job, estimated and measured, against the 5 $ budget
    job = page.locator("[data-testid=cost-row]").first
    assert job.get_attribute("data-state") == "done" and site["asset"][:8] in job.inner_text()
    assert page.locator("[data-testid=cost-budget]").inner_text().endswith("$5.00")
    assert page.locator("[data-testid=cost-meter]").count() == 1

    # another window redraws from a new request
    with page.expect_response(lambda r: "/api/v1/dashboard?minutes=15" in r.url) as got:
        page.click("[data-testid=window-15]")
    assert got.value.status == 200
    assert "minutes=15" in page.url
    page.wait_for_timeout(300)
    assert all(c["painted"] > 500 for c in page.evaluate(DRAWN))

    page.screenshot(path=str(tmp_path / "dashboard.png"), full_page=True)
    assert not problems, problems
    context.close()


def test_a_viewer_key_is_told_it_needs_admin(browser, site) -> None:
    server = site["server"]
    context = browser.new_context()
    sign_in(context, server, "viewer")
    page = context.new_page()
    page.goto(server.base + "/dashboard")
    problem = page.wait_for_selector("[data-testid=dashboard-problem]", timeout=10_000)
    assert "admin" in problem.inner_text()
    assert page.locator("[data-testid=chart-workflows]").count() == 0
    context.close()


# Per chart: the time span drawn, and whether anything is painted in the outermost columns
# of its canvas (an axis label cut off at the edge paints there; a fitted one leaves a margin).
EDGES = """
() => [...document.querySelectorAll('[data-testid^=chart-]')].map((fig) => {
  const box = fig.querySelector('[data-x-min]')
  const c = fig.querySelector('canvas')
  const ctx = c.getContext('2d')
  const margin = Math.ceil(3 * (window.devicePixelRatio || 1))
  const painted = (x) => {
    const data = ctx.getImageData(x, 0, margin, c.height).data
    for (let i = 3; i < data.length; i += 4) if (data[i] !== 0) return true
    return false
  }
  return {
    id: fig.dataset.testid,
    span: Number(box.dataset.xMax) - Number(box.dataset.xMin),
    left: painted(0),
    right: painted(c.width - margin),
  }
})
"""


def test_time_axis_fits_the_data_and_labels_are_not_cut_off(browser, site) -> None:
    server = site["server"]
    context = browser.new_context(viewport={"width": 1300, "height": 1000})
    sign_in(context, server, "admin")
    page = context.new_page()
    page.goto(server.base + "/dashboard?minutes=1440")
    page.wait_for_selector("[data-testid=chart-workflows] canvas", timeout=20_000)
    page.wait_for_timeout(300)
    charts = page.evaluate(EDGES)
    assert len(charts) == len(CHARTS)
    for chart in charts:
        # the server has run for minutes, not a day: the axis spans the recorded minutes
        # (at least the last ten), not the 24 h window
        assert 9 * 60 <= chart["span"] <= 30 * 60, chart
        assert not chart["left"] and not chart["right"], chart
    context.close()
