"""Audio languages and captions in a real browser: a title with two audio languages, an
embedded English subtitle stream and a French sidecar plays in /watch/{id} with hls.js; the
player's menus list both audio tracks and both subtitle tracks, choosing French switches
the audio (hls.js loads the French rendition and playback goes on) and choosing captions
makes a cue active in the video's text tracks. DASH (dash.js) lists the same tracks, English
first, and switches too."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator

import pytest
from support.browser import needs_chromium, sign_in
from support.cli import run_cli
from support.server import Server
from support.tracks_media import french_sidecar, multi_track_source

pytestmark = needs_chromium

SECONDS = 14
VIDEO = "document.querySelector('[data-testid=video]')"


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Iterator[dict]:
    home = tmp_path_factory.mktemp("trackplay")
    media = home.parent / f"{home.name}-media"
    source = multi_track_source(media, seconds=SECONDS)
    sidecar = french_sidecar(media)
    done = run_cli(
        home, "process", str(source), "--subtitles", f"{sidecar}:fr", "--json", timeout=300
    )
    assert done.returncode == 0, done.stderr
    server = Server(home)
    yield {"server": server, "asset": json.loads(done.stdout)["asset_id"]}
    server.stop()


def open_player(browser, site):
    context = browser.new_context()
    sign_in(context, site["server"], "viewer")
    page = context.new_page()
    requests: list[str] = []
    page.on("request", lambda r: requests.append(r.url))
    page.goto(f"{site['server'].base}/watch/{site['asset']}")
    return page, requests


def now(page) -> float:
    return float(page.evaluate(f"{VIDEO}.currentTime"))


def wait_advancing(page, beyond: float, timeout: float = 30.0) -> float:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if now(page) > beyond:
            return now(page)
        time.sleep(0.2)
    raise AssertionError(f"playback stuck at {now(page)} s")


def options(page, testid: str) -> list[str]:
    return list(
        page.eval_on_selector_all(
            f"[data-testid={testid}] option", "els => els.map((e) => e.textContent)"
        )
    )


def wait_options(page, testid: str, count: int) -> None:
    """Until the menu `testid` lists `count` options."""
    page.wait_for_function(
        f"() => document.querySelectorAll('[data-testid={testid}] option').length === {count}",
        timeout=30_000,
    )


def wait_audio_playing(page, language: str) -> None:
    """Until the audio menu says the `language` rendition is the one playing."""
    page.wait_for_function(
        "(l) => document.querySelector('[data-testid=audio-menu]').dataset.playing === l",
        arg=language,
        timeout=15_000,
    )


def test_hls_lists_both_languages_and_switches_audio(browser, site) -> None:
    page, requests = open_player(browser, site)
    wait_options(page, "audio-menu", 2)
    wait_options(page, "caption-menu", 3)
    assert options(page, "caption-menu")[0] == "Off"
    assert page.get_by_label("Audio").count() == 1 and page.get_by_label("Captions").count() == 1
    menu = page.locator("[data-testid=audio-menu]")
    assert menu.get_attribute("data-playing") == "en"
    wait_advancing(page, 1.0)
    audio_playlists = [u for u in requests if "/media_" in u]
    before = set(audio_playlists)
    menu.select_option(index=1)
    wait_audio_playing(page, "fr")
    switched_at = now(page)
    wait_advancing(page, switched_at + 1.5)  # playback continues after the switch
    fetched = {u for u in requests if "/media_" in u} - before
    assert fetched, "hls.js fetched no other audio rendition after the switch"
    assert page.query_selector("[data-testid=player-problem]") is None
    page.context.close()


def test_captions_render_a_cue(browser, site) -> None:
    page, _ = open_player(browser, site)
    wait_options(page, "caption-menu", 3)
    wait_advancing(page, 0.3)
    page.locator("[data-testid=caption-menu]").select_option(index=1)  # English
    page.wait_for_function(
        f"""() => Array.from({VIDEO}.textTracks).some(
              (t) => t.mode === 'showing' && t.activeCues && t.activeCues.length > 0)""",
        timeout=20_000,
    )
    text = page.evaluate(
        f"""() => Array.from({VIDEO}.textTracks)
              .filter((t) => t.mode === 'showing' && t.activeCues && t.activeCues.length)
              .map((t) => t.activeCues[0].text).join('|')"""
    )
    assert "English" in text or "embedded" in text, text
    page.locator("[data-testid=caption-menu]").select_option(index=0)  # Off
    page.wait_for_function(
        f"() => !Array.from({VIDEO}.textTracks).some((t) => t.mode === 'showing')",
        timeout=10_000,
    )
    page.context.close()


def test_dash_lists_the_same_tracks(browser, site) -> None:
    page, _ = open_player(browser, site)
    wait_options(page, "audio-menu", 2)
    page.get_by_role("button", name="DASH").click()
    page.wait_for_function(
        "() => document.querySelectorAll('[data-testid=caption-menu] option').length === 3"
        " && document.querySelector('[data-testid=audio-menu]').dataset.playing === 'en'",
        timeout=30_000,
    )
    assert len(options(page, "audio-menu")) == 2
    page.locator("[data-testid=audio-menu]").select_option(index=1)
    wait_audio_playing(page, "fr")
    wait_advancing(page, now(page) + 1.0)
    page.context.close()
