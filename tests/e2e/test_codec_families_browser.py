"""Players choose a codec family: a title processed with `--codecs h264,av1` plays its AV1
family in Chromium (which decodes AV1 in software) with hls.js and with dash.js, keeping to
that family; a browser that decodes only H.264 (the `window.__primevodForceCodecs` test
hook) plays the H.264 family of the same package."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator

import httpx
import pytest
from support.browser import needs_chromium, sign_in
from support.cli import run_cli
from support.server import Server

pytestmark = needs_chromium


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Iterator[dict]:
    """A 6 s 640x360 clip processed to H.264 and AV1 families (two rungs each)."""
    home = tmp_path_factory.mktemp("codechome")
    source = home.parent / f"{home.name}-clip.mp4"
    made = run_cli(home, "sample", str(source), "--seconds", "6", "--size", "640x360")
    assert made.returncode == 0, made.stderr
    done = run_cli(home, "process", str(source), "--codecs", "h264,av1", "--json", timeout=300)
    assert done.returncode == 0, done.stderr
    server = Server(home)
    yield {"server": server, "asset": json.loads(done.stdout)["asset_id"]}
    server.stop()


def open_player(browser, site, force: list[str] | None = None):
    context = browser.new_context()
    if force is not None:  # read by the player before its engine starts
        context.add_init_script(f"window.__primevodForceCodecs = {json.dumps(force)}")
    sign_in(context, site["server"], "viewer")
    page = context.new_page()
    page.goto(f"{site['server'].base}/watch/{site['asset']}")
    page.wait_for_selector("[data-testid=video]", timeout=20_000)
    return page


def active_codec(page, prefix: str) -> str:
    """The codec of the rendition playing, once it starts with `prefix`."""
    page.wait_for_function(
        "(p) => (document.querySelector('[data-testid=video]').dataset.codec || '').startsWith(p)",
        arg=prefix,
        timeout=30_000,
    )
    return str(page.get_attribute("[data-testid=video]", "data-codec"))


def wait_playing(page, beyond: float, timeout: float = 45.0) -> None:
    deadline = time.monotonic() + timeout
    now = 0.0
    while time.monotonic() < deadline:
        now = float(page.evaluate("document.querySelector('[data-testid=video]').currentTime"))
        if now > beyond:
            return
        time.sleep(0.25)
    raise AssertionError(f"video stuck at {now} s")


def no_problem(page) -> None:
    problem = page.query_selector("[data-testid=player-problem]")
    assert problem is None, problem.inner_text()


def test_grant_lists_the_packages_codec_families(site) -> None:
    server = site["server"]
    answer = httpx.get(
        f"{server.base}/api/v1/assets/{site['asset']}/playback", headers=server.auth("viewer")
    )
    assert answer.status_code == 200, answer.text
    assert answer.json()["codec_families"] == ["h264", "av1"]


def test_hls_js_plays_the_av1_family_and_keeps_to_it(browser, site) -> None:
    page = open_player(browser, site)
    assert active_codec(page, "av01").startswith("av01.0.")
    wait_playing(page, 1.5)
    # only the AV1 family is offered: two rungs, not the four of both families
    page.wait_for_selector("[data-testid=level]", timeout=10_000)
    assert page.locator("[data-testid=level]").count() == 2
    wait_playing(page, 4.5)  # past the first segments: still the AV1 family
    assert active_codec(page, "av01")
    no_problem(page)
    page.context.close()


def test_h264_only_browser_plays_the_h264_family(browser, site) -> None:
    page = open_player(browser, site, force=["avc1"])
    assert active_codec(page, "avc1").startswith("avc1.")
    wait_playing(page, 1.5)
    assert page.locator("[data-testid=level]").count() == 2
    no_problem(page)
    page.context.close()


def switch_to_dash_js(page, prefix: str) -> str:
    """Once hls.js plays a `prefix` codec, switch the player to dash.js; the codec dash.js
    then plays, once it starts with `prefix`."""
    active_codec(page, prefix)
    page.get_by_role("button", name="DASH", exact=True).click()
    # the engine and the codec it reports change in one render: what follows is dash.js's
    page.wait_for_selector("[data-testid=video][data-engine=dash]", timeout=10_000)
    return active_codec(page, prefix)


def test_dash_js_plays_the_av1_adaptation_set(browser, site) -> None:
    page = open_player(browser, site)
    assert switch_to_dash_js(page, "av01").startswith("av01.0.")
    wait_playing(page, 1.5)
    no_problem(page)
    page.context.close()


def test_dash_js_in_an_h264_only_browser_plays_the_h264_set(browser, site) -> None:
    page = open_player(browser, site, force=["avc1"])
    assert switch_to_dash_js(page, "avc1").startswith("avc1.")
    wait_playing(page, 1.0)
    no_problem(page)
    page.context.close()
