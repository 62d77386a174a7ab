"""Subtitles from the uploader page (Playwright driving Debian's Chromium, headless, against
a real `primevod serve`): a WebVTT file chosen beside the video is read in the browser, sent
as the `subtitles` field of the upload init, and becomes the published package's subtitle
rendition. A language the server would refuse stops the upload before any byte is sent,
and the control passes axe."""

from __future__ import annotations

from pathlib import Path

import pytest
from support.a11y import blocking_violations
from support.browser import needs_chromium, sign_in

from primevod.core.hls import parse_attributes

pytestmark = needs_chromium

GERMAN_VTT = """WEBVTT

00:00:00.200 --> 00:00:01.500
Guten Tag aus dem Browser

00:00:01.600 --> 00:00:02.800
Zweite Zeile
"""


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    from support.server import Server

    srv = Server(tmp_path_factory.mktemp("subswebhome"))
    yield srv
    srv.stop()


def subtitle_media(master: Path) -> list[dict[str, str]]:
    return [
        parse_attributes(line.split(":", 1)[1])
        for line in master.read_text().splitlines()
        if line.startswith("#EXT-X-MEDIA:") and "TYPE=SUBTITLES" in line
    ]


def test_a_vtt_chosen_on_the_page_becomes_the_assets_subtitle_rendition(
    browser, server, clip, tmp_path: Path
) -> None:
    vtt = tmp_path / "greeting.vtt"
    vtt.write_text(GERMAN_VTT, encoding="utf-8")
    context = browser.new_context()
    sign_in(context, server, "uploader")
    page = context.new_page()
    inits: list[dict] = []
    page.on(
        "request",
        lambda r: inits.append(r.post_data_json) if r.url.endswith("/uploads/init") else None,
    )
    page.goto(server.base + "/")
    page.wait_for_selector("[data-testid=whoami]")

    page.get_by_label("Add subtitle files").set_input_files(str(vtt))
    language = page.get_by_label("Language of greeting.vtt")
    language.fill("de DE")  # not a tag: the page says so and does not start the upload
    assert language.get_attribute("aria-invalid") == "true"
    assert blocking_violations(page) == []  # the control with a file listed and a bad tag
    page.set_input_files("input.uppy-Dashboard-input >> nth=0", str(clip("small.mp4")))
    page.click("button.uppy-StatusBar-actionBtn--upload")
    page.wait_for_timeout(1000)
    assert inits == []

    language.fill("de")
    page.click("button.uppy-StatusBar-actionBtn--upload")
    page.wait_for_selector(".uppy-StatusBar.is-complete", timeout=90_000)
    assert [s["language"] for s in inits[0]["subtitles"]] == ["de"]
    assert "Guten Tag aus dem Browser" in inits[0]["subtitles"][0]["text"]
    page.wait_for_selector("[data-testid=subtitle-track]", state="detached")  # next: none

    mine = "[data-testid=asset][data-filename='small.mp4']"
    page.wait_for_selector(f"{mine}[data-status=ready]", timeout=120_000)
    asset_id = page.get_attribute(f"{mine} [data-testid=watch-link]", "href").rsplit("/", 1)[1]
    asset = server.catalog.get_asset(asset_id)
    assert [(s["language"], s["name"]) for s in asset.metadata["subtitles"]] == [("de", "de")]
    bucket = server.home / "store" / "buckets" / str(asset.output_bucket)
    master = bucket / str(asset.hls_path)
    [track] = subtitle_media(master)
    assert (track["LANGUAGE"], track["GROUP-ID"]) == ("de", "subs")
    segment = master.parent / Path(track["URI"]).parent / "seg_00001.vtt"
    assert "Guten Tag aus dem Browser" in segment.read_text()
    context.close()
