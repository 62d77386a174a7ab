"""The React uploader in a real browser (Playwright driving Debian's Chromium, headless)
against a real `primevod serve`: upload, a lost connection mid-upload, the asset becoming
ready."""

from __future__ import annotations

from pathlib import Path

import pytest
from support.browser import needs_chromium, sign_in

pytestmark = needs_chromium


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    from support.server import Server

    # real part sizes: Uppy never cuts parts under S3's 5 MiB minimum
    srv = Server(tmp_path_factory.mktemp("webhome"))
    yield srv
    srv.stop()


def open_uploader(browser, server):
    context = browser.new_context()
    sign_in(context, server, "uploader")
    page = context.new_page()
    page.goto(server.base + "/")
    page.wait_for_selector("[data-testid=whoami]")
    return page


def upload(page, path: Path) -> None:
    page.set_input_files("input.uppy-Dashboard-input >> nth=0", str(path))
    page.click("button.uppy-StatusBar-actionBtn--upload")


def test_upload_through_the_page_until_ready(browser, server, clip, tmp_path) -> None:
    page = open_uploader(browser, server)
    page.set_input_files("input.uppy-Dashboard-input >> nth=0", str(clip("long9s.mp4")))
    page.click("button.uppy-Dashboard-Item-action--edit")  # the file's details
    page.fill("#uppy-Dashboard-FileCard-input-title", "Harbour at dusk")
    page.fill("#uppy-Dashboard-FileCard-input-description", "boats coming in")
    page.fill("#uppy-Dashboard-FileCard-input-tags", "sea, boats")
    page.click("button.uppy-Dashboard-FileCard-actionsBtn[type=submit]")
    page.click("button.uppy-StatusBar-actionBtn--upload")
    page.wait_for_selector(".uppy-StatusBar.is-complete", timeout=60_000)
    mine = "[data-testid=asset][data-filename='long9s.mp4']"  # the list keeps earlier uploads
    row = page.wait_for_selector(f"{mine}[data-status=ready]", timeout=120_000)
    assert "Ready" in row.inner_text()
    assert page.get_attribute(f"{mine} [data-testid=watch-link]", "href").startswith("/watch/")
    asset_id = page.get_attribute(f"{mine} [data-testid=watch-link]", "href").rsplit("/", 1)[1]
    asset = server.catalog.get_asset(asset_id)
    assert (asset.title, asset.description, asset.tags) == (
        "Harbour at dusk",
        "boats coming in",
        ["sea", "boats"],
    )
    page.screenshot(path=str(tmp_path / "uploaded.png"))
    page.click(f"{mine} [data-testid=watch-link]")
    page.wait_for_selector("[data-testid=player]", timeout=10_000)
    page.close()


def test_lost_connection_mid_upload_is_retried(browser, server, clip) -> None:
    page = open_uploader(browser, server)
    failures = {"left": 2}

    def flaky(route) -> None:
        if failures["left"] > 0:
            failures["left"] -= 1
            route.abort("connectionreset")
        else:
            route.continue_()

    page.route("**/api/v1/uploads/*/parts/*?**", flaky)
    upload(page, clip("small.mp4"))
    page.wait_for_selector(".uppy-StatusBar.is-complete", timeout=90_000)
    assert failures["left"] == 0  # the connection really was lost, twice
    ready = "[data-testid=asset][data-filename='small.mp4'][data-status=ready]"
    page.wait_for_selector(ready, timeout=120_000)
    page.close()


def test_bad_key_is_explained(browser, server, clip) -> None:
    page = browser.new_page()
    page.goto(server.base + "/")
    page.fill("#signin-key", "pv_wrong_key")
    page.click("button:has-text('Sign in')")
    alert = page.wait_for_selector("[role=alert]", timeout=10_000)
    assert "not valid" in alert.inner_text()
    page.close()


def test_uploads_authenticate_with_the_session_cookie(browser, server, clip) -> None:
    """Every upload call (init, signPart, the part PUTs, complete) goes with the cookie: no
    Authorization header, no key in the page's storage."""
    page = open_uploader(browser, server)
    calls: list[tuple[str, str | None]] = []
    page.on(
        "request",
        lambda r: (
            calls.append((r.url, r.headers.get("authorization")))
            if "/api/v1/uploads" in r.url
            else None
        ),
    )
    upload(page, clip("small.mp4"))
    page.wait_for_selector(".uppy-StatusBar.is-complete", timeout=90_000)
    assert any(url.endswith("/uploads/init") for url, _ in calls)
    assert any(url.endswith("/uploads/complete") for url, _ in calls)
    assert all(auth is None for _, auth in calls), calls
    stored = page.evaluate("JSON.stringify([{...localStorage}, {...sessionStorage}])")
    assert server.keys["uploader"] not in stored and "pv_" not in stored
    page.context.close()


def test_reload_mid_upload_resumes_the_same_upload(browser, server, clip) -> None:
    """The part PUT hangs, the page is reloaded, Golden Retriever restores the file and the
    same multipart upload (no second init) completes."""
    page = open_uploader(browser, server)
    inits: list[str] = []
    page.on("request", lambda r: inits.append(r.url) if r.url.endswith("/uploads/init") else None)
    held: list[object] = []

    def hold_first(route) -> None:  # the first part PUT never answers; later ones go through
        if held:
            route.continue_()
        else:
            held.append(route)

    page.route("**/api/v1/uploads/*/parts/*?**", hold_first)
    upload(page, clip("noaudio.mp4"))
    for _ in range(200):
        if held:
            break
        page.wait_for_timeout(100)
    assert held, "the part upload never started"
    page.wait_for_timeout(1500)  # Golden Retriever saves its state at most every second
    page.reload()  # mid-upload: the held request dies with the page
    page.wait_for_selector(".uppy-Dashboard-Item", timeout=20_000)  # restored from storage
    page.click("button.uppy-StatusBar-actionBtn--upload, button.uppy-StatusBar-actionBtn--retry")
    ready = "[data-testid=asset][data-filename='noaudio.mp4'][data-status=ready]"
    page.wait_for_selector(ready, timeout=120_000)
    assert len(inits) == 1  # the upload resumed; it was not started again
    page.close()
