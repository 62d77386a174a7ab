"""Chromium for the browser tests: where Debian installs it, the skip when it is missing
outside CI (CI installs it: .ci/run), and how it is launched."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest

CHROMIUM = "/usr/bin/chromium"
needs_chromium = pytest.mark.skipif(
    not os.path.exists(CHROMIUM) and not os.environ.get("CI"),
    reason="Chromium is not installed (CI installs it; see .ci/run)",
)
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--autoplay-policy=no-user-gesture-required",  # the player starts muted, unprompted
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@contextmanager
def chromium() -> Iterator[Any]:
    """A headless Chromium driven by Playwright, closed on exit."""
    from playwright.sync_api import sync_playwright

    assert os.path.exists(CHROMIUM), "Chromium is missing: CI must install it (.ci/run)"
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        try:
            yield browser
        finally:
            browser.close()


def sign_in(context: Any, server: Any, role: str = "admin") -> dict[str, Any]:
    """Sign a browser context in as `server`'s key of `role`: the session cookie lands in the
    context's cookie jar, as when a person pastes the key into the sign-in form. Answers the
    WhoAmI document."""
    response = context.request.post(
        f"{server.base}/api/v1/session",
        data={"key": server.keys[role]},
        headers={"Origin": server.base},
    )
    assert response.ok, f"sign-in as {role} failed: {response.status} {response.text()}"
    return dict(response.json())
