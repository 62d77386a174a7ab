"""Every page of the console and the viewer, audited by axe-core in Chromium once it has
loaded its data: no serious or critical violation (contrast, names of controls, landmarks,
ARIA use), and every page says in its title where the reader is."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
from support.a11y import blocking_violations
from support.browser import needs_chromium, sign_in
from support.cli import run_cli

pytestmark = needs_chromium


@pytest.fixture(scope="module")
def site(tmp_path_factory, clip) -> Any:
    """A server with one processed title and a share link to it."""
    from support.server import Server

    home = tmp_path_factory.mktemp("a11yhome")
    done = run_cli(home, "process", str(clip("small.mp4")), "--json")
    assert done.returncode == 0, done.stderr
    server = Server(home)
    asset = json.loads(done.stdout)["asset_id"]
    shared = httpx.post(
        f"{server.base}/api/v1/assets/{asset}/share", headers=server.auth("admin"), json={}
    )
    assert shared.status_code == 200, shared.text
    yield {"server": server, "asset": asset, "share": shared.json()}
    server.stop()


def console_pages(site) -> list[str]:
    asset = site["asset"]
    return ["/", "/library", "/dashboard", "/keys", f"/assets/{asset}", f"/watch/{asset}"]


def audit(page, url: str) -> tuple[str, list[str]]:
    page.goto(url)
    page.wait_for_load_state("networkidle")
    page.wait_for_timeout(500)  # the lazy pages (dashboard, keys) render after their data
    return page.title(), blocking_violations(page)


def test_every_console_page_passes_axe_and_has_its_own_title(browser, site) -> None:
    context = browser.new_context()
    sign_in(context, site["server"], "admin")
    page = context.new_page()
    titles: dict[str, str] = {}
    found: dict[str, list[str]] = {}
    for path in console_pages(site):
        titles[path], violations = audit(page, site["server"].base + path)
        if violations:
            found[path] = violations
    context.close()
    assert not found, json.dumps(found, indent=1)
    assert len(set(titles.values())) == len(titles), titles
    assert all(title.endswith("prime-vod") for title in titles.values()), titles


def test_sign_in_and_shared_pages_pass_axe(browser, site) -> None:
    context = browser.new_context()  # no session: the sign-in form, and the viewer's pages
    page = context.new_page()
    found: dict[str, list[str]] = {}
    for url in [
        site["server"].base + "/",
        site["share"]["url"],
        site["share"]["embed_url"],
        site["server"].base + "/embed/xyz",  # the not-found page
    ]:
        _, violations = audit(page, url)
        if violations:
            found[url] = violations
    context.close()
    assert not found, json.dumps(found, indent=1)
