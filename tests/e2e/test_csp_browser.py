"""The web pages under their Content-Security-Policy in a real browser: every page used the way
a person does (upload through Uppy, the library's posters, HLS playback with hls.js and its
worker, the thumbnail preview, DASH, the dashboard's charts) without a single CSP violation,
neither a `securitypolicyviolation` event nor a console message about the policy."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time

import pytest
from support.browser import needs_chromium, sign_in

pytestmark = needs_chromium
# every violation the page sees, recorded before any of its own scripts run
RECORD_VIOLATIONS = """
window.__csp = [];
document.addEventListener('securitypolicyviolation', (e) => {
  window.__csp.push(`${e.violatedDirective} blocked ${e.blockedURI} at ${e.sourceFile}`);
});
"""


@pytest.fixture(scope="module")
def site(tmp_path_factory, clip):
    from support.server import Server

    home = tmp_path_factory.mktemp("csphome")
    extra = {"PRIMEVOD_CANARY_INTERVAL_MINUTES": "0", "PRIMEVOD_QUALITY_CHECK": "off"}
    env = {**os.environ, "PRIMEVOD_HOME": str(home), "PRIMEVOD_PRESET": "ultrafast", **extra}
    done = subprocess.run(
        [sys.executable, "-m", "primevod.cli.main", "process", str(clip("small.mp4")), "--json"],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
    )
    server = Server(home, **extra)
    yield {"server": server, "asset": json.loads(done.stdout)["asset_id"]}
    server.stop()


class Watched:
    """A page whose console messages are kept, signed in as a role."""

    def __init__(self, browser, server, role: str) -> None:
        self.context = browser.new_context()
        self.context.add_init_script(RECORD_VIOLATIONS)
        self.page = self.context.new_page()
        self.console: list[str] = []
        self.page.on("console", lambda message: self.console.append(message.text))
        sign_in(self.context, server, role)
        self.page.goto(server.base + "/")
        self.page.wait_for_selector("[data-testid=whoami]")

    def violations(self) -> list[str]:
        seen = self.page.evaluate("window.__csp || []")
        said = [m for m in self.console if "Content Security Policy" in m]
        return [*seen, *said]

    def close(self) -> None:
        self.context.close()


def test_the_policy_is_sent(site) -> None:
    import httpx

    page = httpx.get(site["server"].base + f"/watch/{site['asset']}")
    assert "worker-src 'self' blob:" in page.headers["Content-Security-Policy"]


def test_uploader_page(browser, site, clip) -> None:
    watched = Watched(browser, site["server"], "uploader")
    page = watched.page
    page.set_input_files("input.uppy-Dashboard-input >> nth=0", str(clip("small.mp4")))
    page.wait_for_selector(".uppy-Dashboard-Item-previewInnerWrap", timeout=10_000)
    page.click("button.uppy-StatusBar-actionBtn--upload")
    page.wait_for_selector(".uppy-StatusBar.is-complete", timeout=60_000)
    assert watched.violations() == []
    watched.close()


def test_library_and_player_pages(browser, site) -> None:
    watched = Watched(browser, site["server"], "viewer")
    page = watched.page
    page.goto(site["server"].base + "/library")
    page.wait_for_selector("[data-testid=library-item] img", timeout=20_000)
    page.goto(site["server"].base + f"/watch/{site['asset']}")
    page.wait_for_selector("[data-testid=level]", timeout=30_000)
    video = "document.querySelector('[data-testid=video]').currentTime"
    deadline = time.monotonic() + 45
    while float(page.evaluate(video)) < 1.0:  # hls.js (and its worker) plays
        assert time.monotonic() < deadline, "the video did not play"
        page.wait_for_timeout(250)
    page.hover("[data-testid=timeline]", position={"x": 30, "y": 5})
    page.wait_for_selector("[data-testid=scrub-preview]", timeout=5_000)
    page.get_by_role("button", name="DASH", exact=True).click()
    page.wait_for_timeout(2_000)
    assert not page.query_selector("[data-testid=player-problem]")
    assert watched.violations() == []
    watched.close()


def test_dashboard_page(browser, site) -> None:
    watched = Watched(browser, site["server"], "admin")
    watched.page.goto(site["server"].base + "/dashboard")
    watched.page.wait_for_selector("[data-testid=chart-workflows] canvas", timeout=20_000)
    watched.page.wait_for_timeout(1_000)
    assert watched.violations() == []
    watched.close()
