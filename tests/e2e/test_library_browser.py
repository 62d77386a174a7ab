"""The library and the upload page's list in a real browser over a real server: creation
dates on the cards, newest or oldest first, a card still processing that turns ready with no
reload (and stops asking once nothing is processing), a failed card that says why with Retry
and Delete as the key's policy allows, and the upload page listing an upload again after a
reload."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
import pytest
from support.assets import process_corrupt
from support.browser import needs_chromium, sign_in
from support.server import Server

from primevod.core.assets import Asset, AssetStatus

pytestmark = needs_chromium

DAY = datetime(2026, 3, 14, 9, 30, tzinfo=UTC)
PART = 5 * 1024 * 1024  # Uppy never cuts parts under S3's 5 MiB minimum


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    srv = Server(tmp_path_factory.mktemp("libraryweb"), PRIMEVOD_QUALITY_CHECK="off")
    yield srv
    srv.stop()


def _asset(title: str, created: datetime, status: AssetStatus, **fields: object) -> Asset:
    asset_id = f"{abs(hash((title, created))) % 10**12:012d}"
    uuid = f"00000000-0000-4000-8000-{asset_id}"
    return Asset(
        id=uuid,
        title=title,
        status=status,
        source_bucket="source",
        source_key=f"uploads/{uuid}/{title}.mp4",
        created_at=created,
        **fields,  # type: ignore[arg-type]
    )


def _page(browser, server, role: str = "admin"):
    context = browser.new_context()
    sign_in(context, server, role)
    return context, context.new_page()


def _titles(page) -> list[str]:
    return page.locator("[data-testid=library-item] [data-testid=asset-link]").all_inner_texts()


def test_cards_show_created_dates_and_sort_by_date(browser, server) -> None:
    made = [
        _asset(f"Dated {n}", DAY - timedelta(days=400 + n), AssetStatus.FAILED) for n in range(3)
    ]
    for asset in made:
        server.catalog.create_asset(asset, event_type=None)
    context, page = _page(browser, server, "viewer")
    page.goto(server.base + "/library?order=asc")
    page.wait_for_selector("[data-testid=library-item]")
    # oldest first: the three dated ones, the oldest of them first
    assert _titles(page)[:3] == ["Dated 2", "Dated 1", "Dated 0"]
    card = page.locator("[data-testid=library-item]", has_text="Dated 2")
    stamp = card.locator("time[data-testid=created]")
    when = made[2].created_at
    assert stamp.get_attribute("datetime") == when.isoformat().replace("+00:00", ".000Z")
    text = stamp.inner_text()
    assert str(when.year) in text and "T" not in text  # a date people read, not ISO
    assert card.locator("[data-testid=asset-link]").get_attribute("href") == f"/assets/{made[2].id}"

    with page.expect_response(lambda r: "order=desc" in r.url):
        page.select_option("[data-testid=library-order]", "desc")
    page.wait_for_function(
        "() => document.querySelector('[data-testid=library-item] [data-testid=asset-link]')"
        ".innerText !== 'Dated 2'"
    )
    assert _titles(page)[-3:] == ["Dated 0", "Dated 1", "Dated 2"]
    assert "order=desc" in page.url
    context.close()


def test_a_processing_card_turns_ready_without_a_reload(browser, server) -> None:
    asset = _asset("Encoding now", datetime.now(UTC), AssetStatus.PROCESSING, progress=0.4)
    server.catalog.create_asset(asset, event_type=None)
    context, page = _page(browser, server, "viewer")
    asked: list[str] = []
    page.on("request", lambda r: asked.append(r.url) if r.url.endswith(asset.id) else None)
    page.goto(server.base + "/library")
    page.evaluate("() => { window.sameDocument = true }")  # gone if the page reloads
    card = page.locator(f"[data-testid=library-item][data-id='{asset.id}']")
    assert "40 %" in card.locator("[data-testid=card-status]").inner_text()

    server.catalog.update_asset(asset.id, progress=0.75)
    card.locator("[data-testid=card-status]", has_text="75 %").wait_for(timeout=10_000)
    server.catalog.update_asset(asset.id, status=AssetStatus.READY, progress=1.0)
    page.wait_for_selector(
        f"[data-testid=library-item][data-id='{asset.id}'][data-status=ready]", timeout=10_000
    )
    assert card.locator("[data-testid=watch-link]").get_attribute("href") == f"/watch/{asset.id}"
    assert page.evaluate("() => window.sameDocument") is True
    assert "Encoding now: Ready" in page.inner_text("[data-testid=library-news]")
    # nothing is processing any more: the page stops asking
    settled = len(asked)
    page.wait_for_timeout(5000)
    assert len(asked) == settled
    context.close()


def test_a_failed_card_says_why_and_offers_retry_and_delete_by_role(
    browser, server, corrupt
) -> None:
    failed = process_corrupt(server, corrupt["text"])
    asset_id, code = failed["asset_id"], failed["error"]["code"]
    assert code.startswith("source.")
    selector = f"[data-testid=library-item][data-id='{asset_id}']"

    context, page = _page(browser, server, "viewer")
    page.goto(server.base + "/library?status=failed")
    card = page.locator(selector)
    card.wait_for()
    reason = card.locator("[data-testid=failure-reason]").inner_text()
    assert code in reason and "The file could not be used." in reason
    assert failed["error"]["message"] in reason
    assert card.locator("[data-testid=retry]").count() == 0  # a viewer may not retry
    assert card.locator("[data-testid=delete]").count() == 0
    context.close()

    context, page = _page(browser, server, "uploader")
    page.goto(server.base + "/library")
    card = page.locator(selector)
    card.locator("[data-testid=retry]").wait_for()
    assert card.locator("[data-testid=delete]").count() == 0  # uploaders retry, not delete
    with page.expect_response(lambda r: r.url.endswith(f"/{asset_id}/retry")) as retried:
        card.locator("[data-testid=retry]").click()
    assert retried.value.status == 202
    # the retry runs the same corrupt source again: it fails again, with its reason
    page.wait_for_selector(f"{selector}[data-status=failed] [data-testid=failure-reason]")
    executions = httpx.get(
        f"{server.base}/api/v1/assets/{asset_id}/executions", headers=server.auth("viewer")
    ).json()
    assert len(executions) == 2
    context.close()

    context, page = _page(browser, server, "admin")
    page.goto(server.base + "/library")
    card = page.locator(selector)
    card.locator("[data-testid=delete]").click()
    with page.expect_response(lambda r: r.request.method == "DELETE") as deleted:
        card.locator("[data-testid=delete-confirm]").click()
    assert deleted.value.status == 204
    page.wait_for_selector(selector, state="detached")
    gone = httpx.get(f"{server.base}/api/v1/assets/{asset_id}", headers=server.auth("admin"))
    assert gone.status_code == 404
    context.close()


def test_the_upload_page_lists_an_upload_again_after_a_reload(browser, server, clip) -> None:
    context, page = _page(browser, server, "uploader")
    page.goto(server.base + "/")
    page.wait_for_selector("[data-testid=uploads-empty]")
    page.set_input_files("input.uppy-Dashboard-input >> nth=0", str(clip("small.mp4")))
    page.click("button.uppy-StatusBar-actionBtn--upload")
    row = "[data-testid=asset][data-filename='small.mp4']"
    page.wait_for_selector(f"{row}[data-status=ready]", timeout=120_000)
    assert "Ready" in page.inner_text("[data-testid=uploads-news]")

    page.reload()
    again = page.wait_for_selector(f"{row}[data-status=ready]", timeout=20_000)
    assert "Ready" in again.inner_text()
    assert again.query_selector("time[datetime]") is not None
    asset_id = again.get_attribute("data-asset-id")
    assert page.get_attribute(f"{row} [data-testid=watch-link]", "href") == f"/watch/{asset_id}"
    context.close()

    # another key's page does not list it
    context, page = _page(browser, server, "admin")
    page.goto(server.base + "/")
    page.wait_for_selector("[data-testid=uploads-empty]")
    assert page.locator(row).count() == 0
    context.close()
