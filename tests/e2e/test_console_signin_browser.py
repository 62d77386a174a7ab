"""Signing in to the web console in Chromium: the one-time link `primevod demo` prints opens the
console signed in as admin (and says so); a pasted key signs in; no key is ever in the
browser's storage; sign-out ends it; a used link explains itself; the API keys page creates
(with a role or a policy), shows the secret once and revokes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from support.browser import needs_chromium, sign_in
from support.server import LIMITS_OFF, Server, free_port

pytestmark = needs_chromium
STORAGE = "JSON.stringify([{...window.localStorage}, {...window.sessionStorage}])"


@pytest.fixture(scope="module")
def server(tmp_path_factory) -> Iterator[Server]:
    running = Server(tmp_path_factory.mktemp("signinhome"))
    yield running
    running.stop()


def no_key_stored(page: Any, *keys: str) -> None:
    stored = page.evaluate(STORAGE)
    assert all(key not in stored for key in keys), stored
    assert "pv_" not in stored


@pytest.fixture(scope="module")
def demo(tmp_path_factory) -> Iterator[dict[str, Any]]:
    """`primevod demo` serving on a free port: its JSON (with the sign-in link)."""
    home = tmp_path_factory.mktemp("demohome")
    port = free_port()
    env = {
        **os.environ,
        **LIMITS_OFF,
        "PRIMEVOD_HOME": str(home),
        "PRIMEVOD_PRESET": "ultrafast",
        "PYTHONUNBUFFERED": "1",
    }
    proc = subprocess.Popen(
        [sys.executable, "-m", "primevod.cli.main", "demo", "--port", str(port), "--json"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        lines = []
        assert proc.stdout is not None
        for line in proc.stdout:  # the JSON object, printed before it serves
            lines.append(line)
            if line.rstrip() == "}":
                break
        info = json.loads("".join(lines))
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).is_success:
                    break
            except httpx.HTTPError:
                pass
            assert proc.poll() is None and time.monotonic() < deadline, "demo did not serve"
            time.sleep(0.2)
        yield info
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def test_the_demo_link_signs_in_as_admin_once(browser, demo) -> None:
    link = demo["signin"]
    assert link.startswith("http://127.0.0.1:") and "/signin?token=" in link
    context = browser.new_context()
    page = context.new_page()
    page.goto(link)
    page.wait_for_selector("[data-testid=whoami]")
    assert page.url.endswith("/")
    assert "Signed in as demo (admin) via the demo link" in page.inner_text("[data-testid=whoami]")
    cookie = next(c for c in context.cookies() if c["name"] == "primevod_session")
    assert cookie["httpOnly"] and cookie["sameSite"] == "Strict"
    assert page.evaluate("document.cookie") == ""  # no script can read the session
    no_key_stored(page, demo["admin_key"])
    page.click("nav >> text=Keys")  # an admin's nav has the keys page
    page.wait_for_selector("[data-testid=keys-table]")
    no_key_stored(page, demo["admin_key"])

    page.click("[data-testid=sign-out]")
    page.wait_for_selector("[data-testid=signin]")
    page.reload()
    page.wait_for_selector("[data-testid=signin]")  # still signed out after a reload
    assert "whoami" not in page.content()
    again = context.new_page()
    response = again.goto(link)  # a link signs in once
    assert response is not None and response.status == 410
    assert "already been used" in again.inner_text("body")
    context.close()


def test_a_pasted_key_signs_in_and_is_not_kept(browser, server) -> None:
    context = browser.new_context()
    page = context.new_page()
    page.goto(server.base + "/library")
    page.wait_for_selector("[data-testid=signin]")
    page.fill("#signin-key", "pv_000000000000_wrong")
    page.click("button:has-text('Sign in')")
    assert "not valid" in page.inner_text("[data-testid=signin-problem]")
    page.fill("#signin-key", server.keys["uploader"])
    page.click("button:has-text('Sign in')")
    page.wait_for_selector("[data-testid=whoami]")
    assert "(uploader)" in page.inner_text("[data-testid=whoami]")
    assert "via the demo link" not in page.inner_text("[data-testid=whoami]")
    assert page.locator("nav >> text=Keys").count() == 0  # not an admin
    no_key_stored(page, server.keys["uploader"])
    page.reload()  # the cookie, not the page, remembers the sign-in
    page.wait_for_selector("[data-testid=whoami]")
    no_key_stored(page, server.keys["uploader"])
    context.close()


def test_the_keys_page_creates_and_revokes(browser, server) -> None:
    context = browser.new_context()
    context.grant_permissions(["clipboard-read", "clipboard-write"])
    sign_in(context, server, "admin")
    page = context.new_page()
    page.goto(server.base + "/keys")
    page.wait_for_selector("[data-testid=keys-table]")
    page.fill("#key-name", "browser-made")
    page.select_option("#key-role", "uploader")
    page.click("button:has-text('Create key')")
    secret = page.inner_text("[data-testid=new-key-secret]").strip()
    assert secret.startswith("pv_")
    page.get_by_role("button", name="Copy", exact=True).click()
    page.wait_for_selector("text=Copied.")
    assert page.evaluate("navigator.clipboard.readText()") == secret
    me = httpx.get(server.base + "/api/v1/session", headers={"Authorization": f"Bearer {secret}"})
    assert me.json()["role"] == "uploader" and me.json()["name"] == "browser-made"
    key_id = me.json()["key_id"]
    no_key_stored(page, secret)
    page.get_by_role("button", name="Done", exact=True).click()
    assert page.locator("[data-testid=new-key-secret]").count() == 0  # shown once

    page.check("input[value=policy]")
    page.fill("#key-policy", "{ not json")
    page.click("button:has-text('Create key')")
    assert "not JSON" in page.inner_text("[data-testid=create-problem]")
    bad = {"Statement": [{"Effect": "Allow", "Action": "assets:Explode"}]}
    page.fill("#key-policy", json.dumps(bad))
    page.click("button:has-text('Create key')")
    page.wait_for_selector("[data-testid=create-problem] >> text=no action matches")
    good = {"Statement": [{"Effect": "Allow", "Action": ["assets:List", "assets:Get"]}]}
    page.fill("#key-policy", json.dumps(good))
    page.click("button:has-text('Create key')")
    custom = page.inner_text("[data-testid=new-key-secret]").strip()
    allowed = httpx.get(
        server.base + "/api/v1/session", headers={"Authorization": f"Bearer {custom}"}
    ).json()["allowed"]
    assert allowed["assets:List"] and not allowed["uploads:Create"]

    row = page.locator(f"[data-testid=key-row][data-key-id='{key_id}']")
    assert "active" in row.inner_text()
    row.get_by_role("button", name=f"Revoke key {key_id}").click()
    row.get_by_role("button", name=f"Confirm revoking key {key_id}").click()
    page.wait_for_selector(f"[data-testid=key-row][data-key-id='{key_id}'] >> text=revoked")
    refused = httpx.get(
        server.base + "/api/v1/assets", headers={"Authorization": f"Bearer {secret}"}
    )
    assert refused.status_code == 401
    context.close()


def test_the_keys_page_is_for_admins(browser, server) -> None:
    context = browser.new_context()
    sign_in(context, server, "viewer")
    page = context.new_page()
    page.goto(server.base + "/keys")
    page.wait_for_selector("text=may not manage API keys")
    context.close()
