"""The API documentation pages with no internet: Chromium reaches nothing but this server
(every other request is aborted), and /docs (Swagger UI) lists the operations and /redoc
(ReDoc) renders the API's title, both under their Content-Security-Policy without a single
violation and without asking any other host for anything."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

import pytest
from support.browser import needs_chromium
from support.server import Server

pytestmark = needs_chromium
RECORD_VIOLATIONS = """
window.__csp = [];
document.addEventListener('securitypolicyviolation', (e) => {
  window.__csp.push(`${e.violatedDirective} blocked ${e.blockedURI}`);
});
"""


@pytest.fixture(scope="module")
def server(tmp_path_factory) -> Iterator[Server]:
    running = Server(tmp_path_factory.mktemp("docshome"))
    yield running
    running.stop()


class Offline:
    """A browser context that can reach only the loopback server: what else it asked for
    is kept (and aborted), as are the page's errors and CSP violations."""

    def __init__(self, browser: Any) -> None:
        self.context = browser.new_context()
        self.context.add_init_script(RECORD_VIOLATIONS)
        self.elsewhere: list[str] = []
        self.context.route("**/*", self._only_loopback)
        self.page = self.context.new_page()
        self.errors: list[str] = []
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))
        self.page.on(
            "console",
            lambda m: self.errors.append(m.text) if m.type == "error" else None,
        )

    def _only_loopback(self, route: Any) -> None:
        host = urlsplit(route.request.url).hostname
        if host in ("127.0.0.1", "localhost"):
            route.continue_()
        else:
            self.elsewhere.append(route.request.url)
            route.abort("internetdisconnected")

    def clean(self, *expected_violations: str) -> None:
        assert self.elsewhere == [], self.elsewhere
        assert self.page.evaluate("window.__csp") == list(expected_violations)
        said = [e for e in self.errors if not any(v.split()[-1] in e for v in expected_violations)]
        assert said == [], said
        self.context.close()


def test_swagger_ui_renders_offline(browser, server) -> None:
    offline = Offline(browser)
    page = offline.page
    page.goto(server.base + "/docs")
    page.wait_for_selector(".swagger-ui .info .title", timeout=20_000)
    assert "prime-vod" in page.inner_text(".swagger-ui .info .title")
    page.wait_for_selector(".opblock", timeout=20_000)
    paths = page.locator(".opblock .opblock-summary-path").all_inner_texts()
    for operation in ("/api/v1/session", "/api/v1/api-keys", "/api/v1/assets"):
        assert any(operation in p for p in paths), paths
    assert page.title() == "prime-vod API - Swagger UI"
    offline.clean()


def test_redoc_renders_offline(browser, server) -> None:
    offline = Offline(browser)
    page = offline.page
    page.goto(server.base + "/redoc")
    heading = page.wait_for_selector("h1", timeout=20_000)
    assert "prime-vod" in heading.inner_text()
    page.wait_for_selector("h2:has-text('Sign In')", timeout=20_000)  # an operation
    assert page.title() == "prime-vod API - ReDoc"
    # ReDoc's sidebar credit shows a logo from its CDN; the policy stops that request before it
    # leaves the browser (the image hides itself when it does not load)
    offline.clean("img-src blocked https://cdn.redoc.ly/redoc/logo-mini.svg")
