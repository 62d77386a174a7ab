"""Playback in a real browser: /watch/{id} plays the HLS ladder through the signed edge with
hls.js (and DASH with dash.js) under its own controls: one timeline with thumbnail and time
previews (keyboard too), quality that switches at once, an HLS/DASH switch that keeps the
position. A share link plays in a fresh browser with no key and no session, an expired one is
refused in plain words, and /embed/ plays inside another site's iframe. The server's playback
grants live 12 s here: the player renews them and plays on past their expiry."""

from __future__ import annotations

import http.server
import itertools
import json
import threading
import time
from collections.abc import Iterator
from functools import partial
from pathlib import Path

import httpx
import pytest
from support.browser import needs_chromium, sign_in
from support.cli import run_cli
from support.server import Server, free_port

from primevod.adapters.signing.key_store import KeyStore
from primevod.core.sharing import share_token, when
from primevod.core.signing import Signer

pytestmark = needs_chromium
GRANT_SECONDS = 12  # short, so that playing past a grant's expiry takes little time


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Iterator[dict]:
    """A 64 s clip on a server whose grants last 12 s: hls.js buffers 30 s ahead, so a player
    that plays 24 s still fetches segments well after its first grant expired. No VMAF check
    (nothing here shows quality scores): the fixture's encode is all this module waits for."""
    home = tmp_path_factory.mktemp("playhome")
    source = home.parent / f"{home.name}-long.mp4"
    made = run_cli(home, "sample", str(source), "--seconds", "64", "--size", "854x480")
    assert made.returncode == 0, made.stderr
    done = run_cli(
        home, "process", str(source), "--json", timeout=300, PRIMEVOD_QUALITY_CHECK="off"
    )
    assert done.returncode == 0, done.stderr
    server = Server(home, PRIMEVOD_PLAYBACK_TTL_SECONDS=str(GRANT_SECONDS))
    yield {"server": server, "asset": json.loads(done.stdout)["asset_id"], "home": home}
    server.stop()


def open_page(browser, site, path: str, role: str = "viewer"):
    context = browser.new_context()
    sign_in(context, site["server"], role)
    page = context.new_page()
    page.goto(site["server"].base + path)
    if path.startswith("/watch/"):
        page.wait_for_selector("[data-testid=video]", timeout=20_000)  # signed in: the player
    return page


def share_url(site, expires_in: int = 600, kind: str = "url") -> str:
    server = site["server"]
    answer = httpx.post(
        f"{server.base}/api/v1/assets/{site['asset']}/share",
        headers=server.auth("uploader"),
        json={"expires_in": expires_in},
    )
    assert answer.status_code == 200, answer.text
    return str(answer.json()[kind])


def video_state(target) -> dict:
    return dict(
        target.evaluate(
            "(() => { const v = document.querySelector('[data-testid=video]');"
            " return {t: v.currentTime, paused: v.paused, d: v.duration} })()"
        )
    )


def current_time(target) -> float:
    target.wait_for_selector("[data-testid=video]", timeout=20_000)
    return float(video_state(target)["t"])


def wait_playing(target, beyond: float, timeout: float = 45.0) -> float:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        now = current_time(target)
        if now > beyond:
            return now
        time.sleep(0.25)
    raise AssertionError(f"video stuck at {current_time(target)} s")


def no_problem(page) -> None:
    problem = page.query_selector("[data-testid=player-problem]")
    assert problem is None, problem.inner_text()


def test_hls_playback_advances_and_lists_renditions(browser, site, tmp_path) -> None:
    page = open_page(browser, site, f"/watch/{site['asset']}")
    page.wait_for_selector("[data-testid=level]", timeout=30_000)
    levels = page.locator("[data-testid=level]")
    assert levels.count() == 3  # 234p, 360p and the 480p source's own size
    wait_playing(page, 2.0)
    poster = page.get_attribute("[data-testid=video]", "poster")
    assert poster and "/vod/" in poster and "Signature=" in poster
    assert page.get_attribute("[data-testid=video]", "controls") is None  # one timeline: ours
    top = levels.last
    height = top.inner_text().split("p")[0]
    top.click()  # a manual choice takes effect at once and is shown as the one playing
    assert top.get_attribute("aria-pressed") == "true"
    page.wait_for_function(
        f"() => document.querySelector('[data-testid=active-level]').textContent"
        f".includes('{height}p')",
        timeout=10_000,
    )
    page.screenshot(path=str(tmp_path / "player.png"))
    no_problem(page)
    page.context.close()


def test_controls_are_labelled_toggles(browser, site) -> None:
    page = open_page(browser, site, f"/watch/{site['asset']}")
    wait_playing(page, 0.5)
    play = page.get_by_role("button", name="Play", exact=True)
    assert play.get_attribute("aria-pressed") == "true"
    play.click()
    page.wait_for_function("() => document.querySelector('[data-testid=video]').paused")
    page.wait_for_selector("[data-testid=play][aria-pressed=false]", timeout=2_000)
    mute = page.get_by_role("button", name="Mute", exact=True)
    assert mute.get_attribute("aria-pressed") == "true"  # starts muted (autoplay)
    mute.click()
    page.wait_for_selector("[data-testid=mute][aria-pressed=false]", timeout=2_000)
    assert page.evaluate("document.querySelector('[data-testid=video]').muted") is False
    page.get_by_role("slider", name="Volume").fill("0.5")
    assert page.evaluate("document.querySelector('[data-testid=video]').volume") == 0.5
    assert page.get_by_role("button", name="Fullscreen").get_attribute("aria-pressed") == "false"
    assert page.get_by_role("button", name="HLS").get_attribute("aria-pressed") == "true"
    page.context.close()


def test_keyboard_seek_on_the_timeline_moves_the_time_and_previews(browser, site) -> None:
    page = open_page(browser, site, f"/watch/{site['asset']}")
    wait_playing(page, 0.5)
    page.get_by_role("button", name="Play", exact=True).click()  # paused: exact positions
    timeline = page.get_by_role("slider", name="Seek")
    timeline.focus()
    before = current_time(page)
    timeline.press("ArrowRight")
    assert abs(current_time(page) - (before + 5)) < 0.5
    timeline.press("ArrowRight")
    assert abs(current_time(page) - (before + 10)) < 0.5
    preview = page.wait_for_selector("[data-testid=scrub-preview]", timeout=5_000)
    shown = page.inner_text("[data-testid=preview-time]")
    minutes, seconds = shown.split(":")
    assert abs(int(minutes) * 60 + int(seconds) - (before + 10)) <= 1
    assert preview.query_selector("[data-testid=scrub-thumb]")  # the storyboard's picture
    thumb = page.get_attribute("[data-testid=scrub-thumb]", "style") or ""
    assert "Signature=" in thumb  # the sprite is fetched with the grant, cookies or not
    timeline.press("ArrowLeft")
    assert abs(current_time(page) - (before + 5)) < 0.5
    timeline.press("End")
    state = video_state(page)
    assert state["d"] - state["t"] < 0.5
    timeline.press("Home")
    assert current_time(page) < 0.5
    assert "0:00 of" in (timeline.get_attribute("aria-valuetext") or "")
    # the pointer previews too: the time under it
    box = timeline.bounding_box()
    page.mouse.move(box["x"] + box["width"] * 0.5, box["y"] + box["height"] / 2)
    page.wait_for_function(
        "() => (document.querySelector('[data-testid=preview-time]')?.textContent || '') >= '0:20'",
        timeout=5_000,
    )
    no_problem(page)
    page.context.close()


def test_hls_dash_switch_keeps_the_position(browser, site) -> None:
    page = open_page(browser, site, f"/watch/{site['asset']}")
    page.wait_for_selector("[data-testid=level]", timeout=30_000)
    wait_playing(page, 0.5)
    page.get_by_role("slider", name="Seek").focus()
    for _ in range(4):
        page.keyboard.press("ArrowRight")  # to 20 s
    wait_playing(page, 20.5)
    position = current_time(page)
    page.get_by_role("button", name="DASH", exact=True).click()
    page.wait_for_function(
        "() => document.querySelector('[data-testid=active-level]').textContent.includes('p')",
        timeout=20_000,
    )
    resumed = current_time(page)
    assert abs(resumed - position) < 2.0, (position, resumed)
    wait_playing(page, resumed + 1.0)  # and it plays on
    assert page.locator("[data-testid=level]").count() == 3
    lowest = page.locator("[data-testid=level]").first
    height = lowest.inner_text().split("p")[0]
    lowest.click()  # dash.js: the representation replaced at once
    page.wait_for_function(
        f"() => document.querySelector('[data-testid=active-level]').textContent"
        f".includes('{height}p')",
        timeout=15_000,
    )
    page.get_by_role("button", name="HLS", exact=True).click()
    page.wait_for_timeout(500)
    back = wait_playing(page, resumed)
    assert abs(back - resumed) < 4.0
    no_problem(page)
    page.context.close()


def test_a_grant_that_cannot_be_renewed_is_explained(browser, site) -> None:
    server = site["server"]
    key_id, private = KeyStore(server.home / "signing-keys").signing_key()
    base = f"{server.base}/vod/{site['asset']}/"
    past = int(time.time()) - 60
    signer = Signer(key_id, private)
    stale = {
        "hls_url": signer.signed_url(base + "1/master.m3u8", past, resource=base + "*"),
        "dash_url": signer.signed_url(base + "1/manifest.mpd", past, resource=base + "*"),
        "poster_url": None,
        "storyboard_url": None,
        "expires_at": past,
        "ttl_seconds": 60,
    }
    context = browser.new_context()
    sign_in(context, server, "viewer")
    page = context.new_page()
    page.route(
        "**/api/v1/assets/*/playback*",
        lambda route: route.fulfill(
            status=200, content_type="application/json", body=json.dumps(stale)
        ),
    )
    page.goto(f"{server.base}/watch/{site['asset']}")
    problem = page.wait_for_selector("[data-testid=player-problem]", timeout=30_000)
    assert "could not be renewed" in problem.inner_text()
    context.close()


def test_a_share_link_plays_in_a_fresh_browser_without_a_key(browser, site) -> None:
    """The uploader makes the link on the watch page; a browser with no key, no session and no
    cookie plays it (and its player's beacons are accepted)."""
    server = site["server"]
    viewer = open_page(browser, site, f"/watch/{site['asset']}", "viewer")
    assert viewer.query_selector("[data-testid=share-box]") is None  # viewers may not share
    viewer.context.close()
    uploader = open_page(browser, site, f"/watch/{site['asset']}", "uploader")
    uploader.get_by_label("Link works for").select_option(label="1 hour")
    uploader.get_by_role("button", name="Create share link").click()
    link = uploader.wait_for_selector("[data-testid=share-url]").input_value()
    embed = uploader.input_value("[data-testid=share-embed]")
    assert link.startswith(f"{server.base}/watch/{site['asset']}?token=")
    assert embed.startswith("<iframe") and "/embed/" in embed
    uploader.context.close()
    began = time.time()  # the beacons from here on are the share viewer's
    context = browser.new_context()  # no sign-in, no key, no cookie
    page = context.new_page()
    page.goto(link)
    title = server.catalog.get_asset(site["asset"]).title
    page.wait_for_selector(f"h2:has-text('{title}')", timeout=20_000)
    wait_playing(page, 3.0)
    no_problem(page)
    assert page.evaluate("localStorage.length + sessionStorage.length") == 0
    assert not page.query_selector("text=Sign in")  # no sign-in form on a shared page
    page.goto("about:blank")  # the viewer's beacons are accepted: signed by the grant
    deadline = time.monotonic() + 10
    kinds: set[str] = set()
    while time.monotonic() < deadline and "end" not in kinds:
        time.sleep(0.3)
        kinds = {
            e["type"]
            for e in server.catalog.beacon_events(since=began)
            if e["asset_id"] == site["asset"]
        }
    assert {"startup", "end"} <= kinds, kinds
    context.close()


def test_an_expired_share_is_refused_with_a_clear_message(browser, site) -> None:
    server = site["server"]
    key_id, private = KeyStore(site["home"] / "signing-keys").signing_key()
    past = int(time.time()) - 120
    token = share_token(Signer(key_id, private), site["asset"], past)
    context = browser.new_context()
    page = context.new_page()
    page.goto(f"{server.base}/watch/{site['asset']}?token={token}")
    problem = page.wait_for_selector("[data-testid=player-problem]", timeout=20_000)
    assert problem.inner_text() == f"This share link expired on {when(past)}."
    assert current_time(page) == 0
    context.close()


def test_playback_continues_past_the_grant_expiry(browser, site) -> None:
    """With 12 s grants the player renews them (at 80 %) and plays on, with no stall and no
    request the edge refused, well past the first grant's expiry."""
    server = site["server"]
    began = time.time()
    context = browser.new_context()
    page = context.new_page()
    page.goto(share_url(site))
    wait_playing(page, 0.2)
    samples: list[tuple[float, float]] = []
    deadline = time.monotonic() + 2 * (GRANT_SECONDS + 12)
    while not samples or samples[-1][1] < GRANT_SECONDS + 12:  # past 24 s of media
        assert time.monotonic() < deadline, samples[-3:]
        samples.append((time.monotonic(), current_time(page)))
        time.sleep(1.0)
    assert samples[-1][0] - samples[0][0] > GRANT_SECONDS + 5  # well past the first grant
    for (t0, v0), (t1, v1) in itertools.pairwise(samples):
        assert v1 - v0 > 0.5 * (t1 - t0), f"stalled between {v0:.1f} s and {v1:.1f} s"
    no_problem(page)
    renewals = int(page.get_attribute("[data-testid=player]", "data-renewals") or 0)
    page.goto("about:blank")  # the last beacon, signed by the newest grant, is accepted
    deadline = time.monotonic() + 10
    ends: list[dict] = []
    while not ends:
        assert time.monotonic() < deadline, "the last beacon was refused"
        time.sleep(0.3)
        ends = [
            e
            for e in server.catalog.beacon_events(since=began)
            if e["asset_id"] == site["asset"] and e["type"] == "end"
        ]
    assert ends[-1]["value"] > GRANT_SECONDS + 5
    context.close()
    log = server.home / "logs" / "edge-access.log"
    requests = [json.loads(line) for line in log.read_text().splitlines()]
    ours = [r for r in requests if r["ts"] >= began and r["asset"] == site["asset"]]
    assert [r for r in ours if r["status"] == 403] == []
    # the edge served media after the first grant had expired: the renewal was needed
    late = [r for r in ours if r["ts"] > began + GRANT_SECONDS + 2 and r["status"] == 200]
    assert any(r["path"].endswith(".m4s") for r in late), ours[-5:]
    assert renewals >= 1


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args) -> None:  # the test's output stays readable
        pass


@pytest.fixture
def other_site(tmp_path: Path) -> Iterator[tuple[Path, str]]:
    """Another origin (another host name and port: another site to the browser)."""
    port = free_port()
    handler = partial(_Quiet, directory=str(tmp_path))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", port), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield tmp_path, f"http://localhost:{port}"
    httpd.shutdown()


def test_the_embed_page_plays_inside_another_sites_iframe(browser, site, other_site) -> None:
    server = site["server"]
    folder, origin = other_site
    snippet = share_url(site, kind="embed_html")
    console = f"{server.base}/library"
    (folder / "index.html").write_text(
        "<!doctype html><html lang=en><title>blog</title><h1>A blog post</h1>"
        f"{snippet}<iframe id=console src='{console}' title=console></iframe>"
    )
    context = browser.new_context()
    page = context.new_page()
    page.goto(f"{origin}/index.html")
    frame_element = page.wait_for_selector("iframe[src*='/embed/']")
    frame = frame_element.content_frame()
    frame.wait_for_selector("[data-testid=video]", timeout=20_000)
    wait_playing(frame, 2.0)
    assert frame.query_selector("header") is None and frame.query_selector("nav") is None
    video = frame.query_selector("[data-testid=video]").bounding_box()
    assert video["width"] > 500  # fills the 640 px frame
    assert frame.query_selector("[data-testid=player-problem]") is None
    # the console itself refuses to be framed by another site
    page.wait_for_timeout(1000)
    framed = page.frame_locator("#console").locator("[data-testid], main")
    assert framed.count() == 0
    context.close()
    embed = httpx.get(share_url(site, kind="embed_url"))
    assert "frame-ancestors *" in embed.headers["content-security-policy"]
    assert "x-frame-options" not in embed.headers
    page_headers = httpx.get(console).headers
    assert "frame-ancestors 'self'" in page_headers["content-security-policy"]
    assert page_headers["x-frame-options"] == "SAMEORIGIN"


def test_an_embed_or_share_path_naming_no_asset_shows_not_found(browser, site) -> None:
    """Not the uploader (nor a sign-in form) in a page any site may frame."""
    base = site["server"].base
    context = browser.new_context()  # no session, as a visitor from another site
    page = context.new_page()
    for path in ("/embed/xyz", "/embed/", "/watch/xyz?token=abc", f"/embed/{site['asset']}/x"):
        page.goto(base + path)
        page.wait_for_selector("[data-testid=not-found]")
        assert page.query_selector(".uploader") is None, path
        assert page.query_selector("[data-testid=signin]") is None, path
        assert page.title() == "Not found · prime-vod"
    context.close()
    signed_in = open_page(browser, site, "/assets/xyz")  # signed in: no uploader either
    for path in ("/assets/xyz", "/watch/xyz"):
        signed_in.goto(base + path)
        signed_in.wait_for_selector("[data-testid=not-found]")
        assert signed_in.query_selector(".uploader") is None, path
    signed_in.context.close()


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
    while time.monotonic() < deadline:
        page.wait_for_timeout(300)
        events = [
            e for e in server.catalog.beacon_events(since=began) if e["asset_id"] == site["asset"]
        ]
        sessions = {e["session_id"] for e in events if e["type"] == "end"}
        if any(e["type"] == "switch" and e["session_id"] in sessions for e in events):
            break
    page.context.close()
    ours = {e["session_id"] for e in events if e["type"] == "switch" and e["height"] == lowest}
    assert ours, events
    mine = [e for e in events if e["session_id"] in ours]
    kinds = [e["type"] for e in mine]
    assert "startup" in kinds and "end" in kinds, kinds
    startup = next(e for e in mine if e["type"] == "startup")
    assert 0 < startup["value"] < 30_000
    watched = max(e["value"] for e in mine if e["type"] in ("heartbeat", "end"))
    assert abs(watched - played) < 1.5, (watched, played)
    # the dashboard's viewers panel counts the play and names the asset
    page = open_page(browser, site, "/dashboard", "admin")
    plays = page.wait_for_selector("[data-testid=viewers-plays]", timeout=20_000)
    assert int(plays.inner_text()) >= 1
    row = page.wait_for_selector("[data-testid=viewers-row]")
    assert site["asset"][:8] in row.inner_text()
    page.context.close()


def test_library_lists_the_asset(browser, site) -> None:
    page = open_page(browser, site, "/library")
    item = page.wait_for_selector("[data-testid=library-item][data-status=ready]", timeout=20_000)
    assert "360p" in item.inner_text()
    page.wait_for_selector("[data-testid=library-item] img", timeout=10_000)
    page.context.close()


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
