"""Web console sessions over a real server: a key traded once for an HttpOnly, SameSite=Strict
session cookie; the cookie stands for the key on every API route; sign-out, expiry and a
revoked key end it; cookie-authenticated changes from another site's page are refused (CSRF);
sign-in attempts are rate limited; the one-time sign-in link of `primevod demo`. And the API
keys routes of the console's keys page."""

from __future__ import annotations

import hashlib
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from http.cookies import SimpleCookie

import httpx
import pytest
from support.server import Server

from primevod.core.console_sessions import COOKIE, signin_url


@pytest.fixture(scope="module")
def server(tmp_path_factory) -> Iterator[Server]:
    running = Server(tmp_path_factory.mktemp("sessionhome"))
    yield running
    running.stop()


def console(server: Server, role: str = "admin") -> httpx.Client:
    """A client signed in as `role`, sending this site's Origin like the console's pages."""
    client = httpx.Client(base_url=server.base, headers={"Origin": server.base})
    signed = client.post("/api/v1/session", json={"key": server.keys[role]})
    assert signed.status_code == 200, signed.text
    return client


def set_cookie(response: httpx.Response) -> SimpleCookie:
    jar: SimpleCookie = SimpleCookie()
    jar.load(response.headers["set-cookie"])
    return jar


def stored_sessions(server: Server) -> list[tuple[str, str, str]]:
    with sqlite3.connect(server.home / "catalog.db") as db:
        return db.execute("SELECT token_hash, kind, key_id FROM console_sessions").fetchall()


def test_sign_in_sets_a_strict_http_only_cookie_and_answers_who_am_i(server) -> None:
    response = httpx.post(
        f"{server.base}/api/v1/session",
        json={"key": server.keys["uploader"]},
        headers={"Origin": server.base},
    )
    assert response.status_code == 200, response.text
    me = response.json()
    key_id = server.keys["uploader"].split("_")[1]
    assert me["key_id"] == key_id and me["role"] == "uploader" and me["demo"] is False
    assert me["expires_at"] and me["allowed"]["uploads:Create"] is True
    assert me["allowed"]["keys:Create"] is False and me["allowed"]["assets:Delete"] is False
    morsel = set_cookie(response)[COOKIE]
    assert morsel["httponly"] and morsel["samesite"].lower() == "strict" and morsel["path"] == "/"
    assert morsel["max-age"] == str(12 * 3600)  # the default session_hours
    assert not morsel["secure"]  # plain HTTP here
    token = morsel.value
    assert token not in server.keys.values()
    stored = {row[0]: row for row in stored_sessions(server)}
    assert hashlib.sha256(token.encode()).hexdigest() in stored  # only the token's hash
    assert all(token not in row for row in stored.values())


def test_the_cookie_stands_for_the_key_on_api_routes(server) -> None:
    client = console(server, "viewer")
    me = client.get("/api/v1/session").json()
    assert me["role"] == "viewer" and me["expires_at"] is not None
    assert client.get("/api/v1/assets").status_code == 200
    refused = client.post("/api/v1/api-keys", json={"role": "viewer"})
    assert refused.status_code == 403 and "may not" in refused.json()["detail"]


def test_get_session_with_a_bearer_key_and_without_anything(server) -> None:
    me = httpx.get(f"{server.base}/api/v1/session", headers=server.auth("admin")).json()
    assert me["role"] == "admin" and me["expires_at"] is None and me["demo"] is False
    assert all(me["allowed"].values())
    anonymous = httpx.get(f"{server.base}/api/v1/session")
    assert anonymous.status_code == 401 and "sign in" in anonymous.json()["detail"]


def test_a_bad_key_is_refused(server) -> None:
    for key in ("pv_000000000000_nope", "not a key"):
        response = httpx.post(
            f"{server.base}/api/v1/session", json={"key": key}, headers={"Origin": server.base}
        )
        assert response.status_code == 401, response.text
        assert response.json()["detail"] == "invalid or revoked API key"
        assert "set-cookie" not in response.headers
    empty = httpx.post(
        f"{server.base}/api/v1/session", json={"key": ""}, headers={"Origin": server.base}
    )
    assert empty.status_code == 422


def test_cross_site_cookie_requests_are_refused(server) -> None:
    client = console(server)
    for headers in ({"Origin": "https://evil.example"}, {"Origin": "null"}):
        refused = client.post("/api/v1/api-keys", json={"role": "viewer"}, headers=headers)
        assert refused.status_code == 403, refused.text
        assert "cross-site request refused" in refused.json()["detail"]
    bare = httpx.Client(base_url=server.base, cookies=client.cookies)  # no Origin at all
    assert bare.post("/api/v1/api-keys", json={"role": "viewer"}).status_code == 403
    assert bare.get("/api/v1/api-keys").status_code == 200  # reading is not a change
    referred = bare.post(
        "/api/v1/api-keys",
        json={"role": "viewer", "name": "by referer"},
        headers={"Referer": f"{server.base}/keys"},
    )
    assert referred.status_code == 201, referred.text
    assert client.post("/api/v1/api-keys", json={"role": "viewer"}).status_code == 201
    # a Bearer request carries its key itself: no Origin check
    bearer = httpx.post(
        f"{server.base}/api/v1/api-keys",
        json={"role": "viewer"},
        headers={**server.auth("admin"), "Origin": "https://evil.example"},
    )
    assert bearer.status_code == 201, bearer.text
    # signing in is for this site's pages only (no login CSRF from another site)
    foreign = httpx.post(
        f"{server.base}/api/v1/session",
        json={"key": server.keys["admin"]},
        headers={"Origin": "https://evil.example"},
    )
    assert foreign.status_code == 403 and "set-cookie" not in foreign.headers


def test_sign_out_ends_the_session(server) -> None:
    client = console(server)
    token = client.cookies[COOKIE]
    out = client.delete("/api/v1/session")
    assert out.status_code == 204
    cleared = set_cookie(out)[COOKIE]
    assert cleared.value == "" and cleared["max-age"] == "0"
    stale = httpx.get(f"{server.base}/api/v1/session", cookies={COOKIE: token})
    assert stale.status_code == 401 and "sign in again" in stale.json()["detail"]
    again = httpx.delete(f"{server.base}/api/v1/session")  # nothing to end: still fine
    assert again.status_code == 204


def test_revoking_a_key_ends_its_sessions(server) -> None:
    made = httpx.post(
        f"{server.base}/api/v1/api-keys",
        json={"role": "uploader", "name": "to revoke"},
        headers=server.auth("admin"),
    ).json()
    client = httpx.Client(base_url=server.base, headers={"Origin": server.base})
    assert client.post("/api/v1/session", json={"key": made["key"]}).status_code == 200
    assert client.get("/api/v1/session").json()["name"] == "to revoke"
    revoked = httpx.delete(
        f"{server.base}/api/v1/api-keys/{made['id']}", headers=server.auth("admin")
    )
    assert revoked.status_code == 200 and revoked.json()["sessions_ended"] == 1
    assert client.get("/api/v1/session").status_code == 401
    # a key revoked by the CLI (straight in the catalog) ends its sessions as well
    other = server.catalog.create_key("viewer")
    second = httpx.Client(base_url=server.base, headers={"Origin": server.base})
    assert second.post("/api/v1/session", json={"key": other}).status_code == 200
    server.catalog.revoke_key(other.split("_")[1])
    assert second.get("/api/v1/assets").status_code == 401


def test_the_one_time_sign_in_link(server) -> None:
    key = server.catalog.create_key("admin", name="demo")
    token = server.catalog.create_signin_link(key.split("_")[1], 900)
    link = signin_url(server.base, token)
    assert link.startswith(f"{server.base}/signin?token=")
    opened = httpx.get(link)
    assert opened.status_code == 303 and opened.headers["location"] == "/"
    cookie = set_cookie(opened)[COOKIE]
    assert cookie["httponly"] and cookie["samesite"].lower() == "strict"
    me = httpx.get(f"{server.base}/api/v1/session", cookies={COOKIE: cookie.value}).json()
    assert me["demo"] is True and me["role"] == "admin" and me["name"] == "demo"
    used = httpx.get(link)
    assert used.status_code == 410 and "already been used" in used.text
    assert "set-cookie" not in used.headers
    stale = server.catalog.create_signin_link(key.split("_")[1], -1)
    expired = httpx.get(signin_url(server.base, stale))
    assert expired.status_code == 410 and "expired" in expired.text
    unknown = httpx.get(f"{server.base}/signin?token=made-up")
    assert unknown.status_code == 404 and "not valid" in unknown.text


def test_api_keys_routes(server) -> None:
    admin = server.auth("admin")
    made = httpx.post(
        f"{server.base}/api/v1/api-keys", json={"role": "viewer", "name": "ci"}, headers=admin
    )
    assert made.status_code == 201, made.text
    created = made.json()
    assert created["role"] == "viewer" and created["policy"] == "role"
    assert created["key"].startswith(f"pv_{created['id']}_")
    me = httpx.get(
        f"{server.base}/api/v1/session", headers={"Authorization": f"Bearer {created['key']}"}
    ).json()
    assert me["role"] == "viewer" and me["name"] == "ci"
    listed = httpx.get(f"{server.base}/api/v1/api-keys", headers=admin).json()["keys"]
    row = next(k for k in listed if k["id"] == created["id"])
    assert row == {**row, "role": "viewer", "name": "ci", "revoked": False, "policy": "role"}
    assert all(created["key"] not in str(k) for k in listed)  # never a secret

    policy = {
        "Statement": [
            {"Effect": "Allow", "Action": ["assets:List", "assets:Get", "uploads:Create"]}
        ]
    }
    own = httpx.post(
        f"{server.base}/api/v1/api-keys", json={"policy": policy, "name": "x"}, headers=admin
    ).json()
    assert own["role"] == "custom" and own["policy"] == "own"
    allowed = httpx.get(
        f"{server.base}/api/v1/session", headers={"Authorization": f"Bearer {own['key']}"}
    ).json()["allowed"]
    assert allowed["uploads:Create"] and not allowed["assets:Delete"]

    bad = {"Statement": [{"Effect": "Allow", "Action": ["assets:Explode"]}]}
    for body, words in (
        ({"policy": bad}, "no action matches"),
        ({"role": "owner"}, "role must be one of"),
        ({}, "give a role or a policy"),
    ):
        refused = httpx.post(f"{server.base}/api/v1/api-keys", json=body, headers=admin)
        assert refused.status_code == 422 and words in refused.text, refused.text

    missing = httpx.delete(f"{server.base}/api/v1/api-keys/000000000000", headers=admin)
    assert missing.status_code == 404


def test_api_keys_routes_are_for_admins(server) -> None:
    for role in ("viewer", "uploader"):
        headers = {"Authorization": f"Bearer {server.catalog.create_key(role)}"}
        assert httpx.get(f"{server.base}/api/v1/api-keys", headers=headers).status_code == 403
        create = httpx.post(
            f"{server.base}/api/v1/api-keys", json={"role": "admin"}, headers=headers
        )
        assert create.status_code == 403
        revoke = httpx.delete(f"{server.base}/api/v1/api-keys/whatever", headers=headers)
        assert revoke.status_code == 403


def bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


def create_key(server: Server, headers: dict[str, str], body: dict) -> httpx.Response:
    return httpx.post(f"{server.base}/api/v1/api-keys", json=body, headers=headers)


def allow(actions: list[str], resource: str = "*") -> dict:
    return {"Effect": "Allow", "Action": actions, "Resource": resource}


def test_a_key_grants_no_more_than_it_has(server) -> None:
    keymaker = {
        "Statement": [
            allow(["keys:Create"]),
            allow(["assets:Get", "assets:List"], "collection/course-1/*"),
        ]
    }
    maker = bearer(server.catalog.create_key("custom", "keymaker", keymaker))
    for body in (
        {"role": "admin"},
        {"role": "viewer"},
        {"policy": {"Statement": [allow(["assets:Get"], "collection/*")]}},
        {"policy": {"Statement": [allow(["assets:Get"], "collection/course-1*")]}},
        {"policy": {"Statement": [allow(["assets:Delete"], "collection/course-1/*")]}},
    ):
        refused = create_key(server, maker, body)
        assert refused.status_code == 403, (body, refused.text)
        assert "cannot grant more than it has" in refused.json()["detail"]
    within = {"Statement": [allow(["assets:Get"], "collection/course-1/asset/*")]}
    assert create_key(server, maker, {"policy": within}).status_code == 201
    assert create_key(server, maker, {"policy": keymaker}).status_code == 201  # all it has


def test_a_key_with_a_deny_passes_the_deny_on(server) -> None:
    careful = {
        "Statement": [
            allow(["keys:Create", "assets:*"]),
            {"Effect": "Deny", "Action": "assets:Delete", "Resource": "collection/archive/*"},
        ]
    }
    maker = bearer(server.catalog.create_key("custom", "careful", careful))
    everything = {"Statement": [allow(["assets:*"])]}
    refused = create_key(server, maker, {"policy": everything})
    assert refused.status_code == 403
    assert "assets:Delete on *" in refused.json()["detail"]
    passed_on = create_key(server, maker, {"policy": careful})
    assert passed_on.status_code == 201, passed_on.text


def test_the_last_admin_key_is_not_revoked(tmp_path) -> None:
    """On the API and in `primevod keys revoke` (a server of its own: it revokes admin keys)."""
    own = Server(tmp_path / "home")
    try:
        first = own.keys["admin"]
        first_id = first.split("_")[1]
        refused = httpx.delete(f"{own.base}/api/v1/api-keys/{first_id}", headers=bearer(first))
        assert refused.status_code == 409
        assert "last active admin key" in refused.json()["detail"]
        second = create_key(own, bearer(first), {"role": "admin"}).json()
        revoked = httpx.delete(f"{own.base}/api/v1/api-keys/{first_id}", headers=bearer(first))
        assert revoked.status_code == 200  # another admin key remains
        last = httpx.delete(
            f"{own.base}/api/v1/api-keys/{second['id']}", headers=bearer(second["key"])
        )
        assert last.status_code == 409
        env = {k: v for k, v in own.env.items() if k != "PRIMEVOD_API_KEY"}
        cli = subprocess.run(
            [sys.executable, "-m", "primevod.cli.main", "keys", "revoke", second["id"]],
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert cli.returncode == 2 and "key.last_admin" in cli.stderr, cli.stderr
        assert own.catalog.authenticate(second["key"]) is not None
    finally:
        own.stop()


def test_session_routes_are_audited_without_secrets(server) -> None:
    client = console(server)
    client.get("/api/v1/session")
    token = client.cookies[COOKIE]
    link = server.catalog.create_signin_link(server.keys["admin"].split("_")[1], 60)
    assert httpx.get(signin_url(server.base, link)).status_code == 303
    assert httpx.get(signin_url(server.base, link)).status_code == 410
    time.sleep(1.5)  # the batched audit writer
    with sqlite3.connect(server.home / "catalog.db") as db:
        rows = db.execute(
            "SELECT principal, route, status FROM audit_records WHERE route LIKE '%session'"
        ).fetchall()
        everything = str(db.execute("SELECT * FROM audit_records").fetchall())
    admin_id = server.keys["admin"].split("_")[1]
    assert (admin_id, "POST /api/v1/session", 200) in rows
    assert (admin_id, "GET /api/v1/session", 200) in rows
    with sqlite3.connect(server.home / "catalog.db") as db:  # the demo link's use, by its key
        links = db.execute(
            "SELECT principal, status FROM audit_records WHERE route = 'GET /signin'"
        ).fetchall()
    assert (admin_id, 303) in links and ("anonymous", 410) in links, links
    assert token not in everything and server.keys["admin"] not in everything
    assert link not in everything


def test_session_expiry_and_secure_cookie(tmp_path) -> None:
    short = Server(
        tmp_path / "home",
        PRIMEVOD_SESSION_HOURS=str(2 / 3600),  # two seconds
        PRIMEVOD_PUBLIC_URL="https://console.example",
    )
    try:
        signed = httpx.post(
            f"{short.base}/api/v1/session",
            json={"key": short.keys["admin"]},
            headers={"Origin": short.base},
        )
        morsel = set_cookie(signed)[COOKIE]
        assert morsel["secure"] and morsel["max-age"] == "2"  # reached over https
        cookies = {COOKIE: morsel.value}
        assert httpx.get(f"{short.base}/api/v1/session", cookies=cookies).status_code == 200
        time.sleep(2.5)
        expired = httpx.get(f"{short.base}/api/v1/session", cookies=cookies)
        assert expired.status_code == 401 and "expired" in expired.json()["detail"]
    finally:
        short.stop()


def test_sign_in_attempts_are_rate_limited(tmp_path) -> None:
    limited = Server(tmp_path / "home", PRIMEVOD_RATE_LIMIT_SIGNIN="3/minute")
    try:
        attempts = [
            httpx.post(
                f"{limited.base}/api/v1/session",
                json={"key": f"pv_000000000000_guess{n}"},
                headers={"Origin": limited.base},
            )
            for n in range(3)
        ]
        assert [a.status_code for a in attempts] == [401, 401, 401]
        refused = httpx.post(
            f"{limited.base}/api/v1/session",
            json={"key": limited.keys["admin"]},  # even the right key waits now
            headers={"Origin": limited.base},
        )
        assert refused.status_code == 429 and int(refused.headers["Retry-After"]) >= 1
        assert "sign-in attempts" in refused.json()["detail"]
        link = httpx.get(f"{limited.base}/signin?token=guess")
        assert link.status_code == 429
        # other routes keep their own budget
        assert httpx.get(f"{limited.base}/api/v1/assets", headers=limited.auth("admin")).is_success
    finally:
        limited.stop()
