"""Playback in a real browser: /watch/{id} plays the HLS ladder through the signed edge with
hls.js (and DASH with dash.js), lists the renditions, previews thumbnails; an expired link
says so; /library lists the asset."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time

import pytest
from support.browser import needs_chromium

from primevod.adapters.signing.key_store import KeyStore
from primevod.core.signing import Signer

pytestmark = needs_chromium


@pytest.fixture(scope="module")
def site(tmp_path_factory, bbb):
    from support.server import Server

    home = tmp_path_factory.mktemp("playhome")
    env = {**os.environ, "PRIMEVOD_HOME": str(home), "PRIMEVOD_PRESET": "ultrafast"}
    done = subprocess.run(
        [sys.executable, "-m", "primevod.cli.main", "process", str(bbb), "--json"],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
    )
    server = Server(home)
    yield {"server": server, "asset": json.loads(done.stdout)["asset_id"]}
    server.stop()


def open_page(browser, site, path: str):
    context = browser.new_context()
    page = context.new_page()
    page.goto(site["server"].base + "/")
    page.fill("#api-key", site["server"].keys["viewer"])
    page.click("text=Save key")
    page.goto(site["server"].base + path)
    return page


def current_time(page) -> float:
    return float(page.evaluate("document.querySelector('[data-testid=video]').currentTime"))


def wait_playing(page, beyond: float, timeout: float = 45.0) -> float:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        now = current_time(page)
        if now > beyond:
            return now
        page.wait_for_timeout(250)
    raise AssertionError(f"video stuck at {current_time(page)} s")


def test_hls_playback_advances_and_lists_renditions(browser, site, tmp_path) -> None:
    page = open_page(browser, site, f"/watch/{site['asset']}")
    page.wait_for_selector("[data-testid=level]", timeout=30_000)
    assert page.locator("[data-testid=level]").count() == 4  # 234p to 720p
    wait_playing(page, 2.0)
    poster = page.get_attribute("[data-testid=video]", "poster")
    assert poster and "/vod/" in poster and "Signature=" in poster
    page.locator("[data-testid=level]").last.click()  # manual choice: 720p
    page.hover(".scrubber", position={"x": 30, "y": 5})
    page.wait_for_selector("[data-testid=scrub-preview]", timeout=5_000)
    page.screenshot(path=str(tmp_path / "player.png"))
    assert not page.query_selector("[data-testid=player-problem]")
    page.context.close()


def test_dash_switch_plays(browser, site) -> None:
    page = open_page(browser, site, f"/watch/{site['asset']}")
    page.wait_for_selector("[data-testid=level]", timeout=30_000)
    page.get_by_role("button", name="DASH", exact=True).click()
    page.wait_for_timeout(500)
    wait_playing(page, 1.0)
    page.context.close()


def test_expired_link_is_explained(browser, site) -> None:
    server = site["server"]
    key_id, private = KeyStore(server.home / "signing-keys").signing_key()
    base = f"{server.base}/vod/{site['asset']}/"
    past = int(time.time()) - 60
    signer = Signer(key_id, private)
    stale = {
        "hls_url": signer.signed_url(base + "master.m3u8", past, resource=base + "*"),
        "dash_url": signer.signed_url(base + "manifest.mpd", past, resource=base + "*"),
        "poster_url": None,
        "storyboard_url": None,
        "expires_at": past,
    }
    context = browser.new_context()
    page = context.new_page()
    page.route(
        "**/api/v1/assets/*/playback",
        lambda route: route.fulfill(
            status=200, content_type="application/json", body=json.dumps(stale)
        ),
    )
    page.goto(server.base + "/")
    page.fill("#api-key", server.keys["viewer"])
    page.click("text=Save key")
    page.goto(f"{server.base}/watch/{site['asset']}")
    problem = page.wait_for_selector("[data-testid=player-problem]", timeout=30_000)
    assert "expired" in problem.inner_text()
    context.close()


def test_library_lists_the_asset(browser, site) -> None:
    page = open_page(browser, site, "/library")
    item = page.wait_for_selector("[data-testid=library-item][data-status=ready]", timeout=20_000)
    assert "720p" in item.inner_text()
    page.wait_for_selector("[data-testid=library-item] img", timeout=10_000)
    page.context.close()


def test_playback_reports_its_quality_of_experience(browser, site) -> None:
    """The page's beacons: a startup time, the rendition switch the viewer forced, and watch
    time close to the time the playhead advanced, sent when the page goes away."""
    server = site["server"]
    began = time.time() - 1  # the module's other tests played the asset too
    page = open_page(browser, site, f"/watch/{site['asset']}")
    page.wait_for_selector("[data-testid=level]", timeout=30_000)
    wait_playing(page, 2.0)
    page.locator("[data-testid=level]").first.click()  # the lowest rung: a forced switch
    lowest = int(page.locator("[data-testid=level]").first.inner_text().split("p")[0])
    started = current_time(page)
    wait_playing(page, started + 2.0)
    played = current_time(page)
    page.goto("about:blank")  # pagehide: the last batch goes with navigator.sendBeacon
    deadline = time.monotonic() + 10
    events: list[dict] = []
    while time.monotonic() < deadline and not any(e["type"] == "end" for e in events):
        page.wait_for_timeout(300)
        events = [
            e for e in server.catalog.beacon_events(since=began) if e["asset_id"] == site["asset"]
        ]
    page.context.close()
    kinds = [e["type"] for e in events]
    assert "startup" in kinds and "end" in kinds, kinds
    startup = next(e for e in events if e["type"] == "startup")
    assert 0 < startup["value"] < 30_000
    assert any(e["type"] == "switch" and e["height"] == lowest for e in events), events
    watched = max(e["value"] for e in events if e["type"] in ("heartbeat", "end"))
    assert abs(watched - played) < 1.5, (watched, played)
    assert len({e["session_id"] for e in events}) == 1
    # the dashboard's viewers panel counts the play and names the asset
    context = browser.new_context()
    page = context.new_page()
    page.goto(server.base + "/")
    page.fill("#api-key", server.keys["admin"])
    page.click("text=Save key")
    page.goto(server.base + "/dashboard")
    plays = page.wait_for_selector("[data-testid=viewers-plays]", timeout=20_000)
    assert int(plays.inner_text()) >= 1
    row = page.wait_for_selector("[data-testid=viewers-row]")
    assert site["asset"][:8] in row.inner_text()
    context.close()


def test_library_search_as_you_type(browser, site) -> None:
    server = site["server"]
    title = server.catalog.get_asset(site["asset"]).title
    page = open_page(browser, site, "/library")
    page.wait_for_selector("[data-testid=library-item]", timeout=20_000)
    page.fill("[data-testid=library-search]", "zzqx")
    page.wait_for_selector("[data-testid=library-empty]", timeout=10_000)
    page.fill("[data-testid=library-search]", title[:3])  # a prefix of the title
    item = page.wait_for_selector("[data-testid=library-item]", timeout=10_000)
    assert title in item.inner_text()
    page.fill("[data-testid=library-search]", '"unclosed')
    assert "unbalanced quote" in page.wait_for_selector("[role=alert]").inner_text()
    page.context.close()
