"""Share links on a real server: uploaders and admins may share, viewers may not; the expiry is
bounded; the token plays its own asset with no API key and nothing else (another asset, a
changed expiry, a tampered signature are refused); an expired one is refused with the date it
expired; `primevod share` prints the same kind of link."""

from __future__ import annotations

import json
import time
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from support.cli import run_cli
from support.server import Server

from primevod.adapters.signing.key_store import KeyStore
from primevod.core.sharing import share_token, when
from primevod.core.signing import Signer


@pytest.fixture(scope="module")
def site(tmp_path_factory, clip):
    home = tmp_path_factory.mktemp("share")
    made = []
    for _ in range(2):
        done = run_cli(home, "process", str(clip("small.mp4")), "--json")
        assert done.returncode == 0, done.stderr
        made.append(json.loads(done.stdout)["asset_id"])
    server = Server(home)
    yield {"server": server, "assets": made, "home": home}
    server.stop()


def share(server: Server, asset_id: str, role: str = "uploader", **body: object) -> httpx.Response:
    return httpx.post(
        f"{server.base}/api/v1/assets/{asset_id}/share",
        headers=server.auth(role),
        json=body or None,
    )


def token_of(link: str) -> str:
    return parse_qs(urlsplit(link).query)["token"][0]


def playback(server: Server, asset_id: str, token: str) -> httpx.Response:
    return httpx.get(f"{server.base}/api/v1/assets/{asset_id}/playback", params={"token": token})


def test_uploader_and_admin_share_a_viewer_may_not(site) -> None:
    server, asset = site["server"], site["assets"][0]
    for role in ("uploader", "admin"):
        answer = share(server, asset, role)
        assert answer.status_code == 200, answer.text
        body = answer.json()
        assert body["url"].startswith(f"{server.base}/watch/{asset}?token=")
        assert body["embed_url"].startswith(f"{server.base}/embed/{asset}?token=")
        assert f'src="{body["embed_url"]}"' in body["embed_html"]
        assert token_of(body["url"]) == body["token"]
        expires = time.mktime(time.strptime(body["expires_at"], "%Y-%m-%dT%H:%M:%SZ"))
        expires -= time.timezone  # the ISO time is UTC
        assert abs(expires - (time.time() + 7 * 86400)) < 120  # 7 days by default
    refused = share(server, asset, "viewer")
    assert refused.status_code == 403
    assert "assets:Share" in refused.json()["detail"]
    no_key = httpx.post(f"{server.base}/api/v1/assets/{asset}/share")
    assert no_key.status_code == 401
    missing = share(server, "00000000-0000-4000-8000-000000000000", "admin")
    assert missing.status_code == 404


@pytest.mark.parametrize("seconds", [0, 59, 90 * 86400 + 1, -5])
def test_expiry_outside_the_bounds_is_422(site, seconds: int) -> None:
    answer = share(site["server"], site["assets"][0], expires_in=seconds)
    assert answer.status_code == 422
    assert "expires_in" in answer.text


def test_the_token_plays_its_asset_without_a_key(site) -> None:
    server, asset = site["server"], site["assets"][0]
    token = share(server, asset, expires_in=3600).json()["token"]
    answer = playback(server, asset, token)
    assert answer.status_code == 200, answer.text
    grant = answer.json()
    assert grant["title"] and grant["duration"] > 0
    assert "metadata" not in grant and "executions" not in grant  # not the asset's record
    assert grant["expires_at"] <= time.time() + 3600 + 5  # never beyond the share
    master = httpx.get(grant["hls_url"])
    assert master.status_code == 200 and "#EXTM3U" in master.text
    # the token alone reads no other route
    assert (
        httpx.get(f"{server.base}/api/v1/assets/{asset}", params={"token": token}).status_code
        == 401
    )


def test_a_token_for_another_asset_or_tampered_is_refused(site) -> None:
    server, (first, second) = site["server"], site["assets"]
    token = share(server, first, expires_in=3600).json()["token"]
    other = playback(server, second, token)
    assert other.status_code == 403
    assert other.json()["detail"] == "This share link is not valid for this video."
    expires, key_id, signature = token.split(".", 2)
    longer = f"{int(expires) + 86400}.{key_id}.{signature}"
    assert playback(server, first, longer).status_code == 403
    flipped = signature[:-3] + ("AAA" if signature[-3:] != "AAA" else "BBB")
    assert playback(server, first, f"{expires}.{key_id}.{flipped}").status_code == 403
    assert playback(server, first, "garbage").status_code == 403
    retired_key = playback(server, first, f"{expires}.K-none.{signature}")
    assert retired_key.status_code == 403
    assert "revoked" in retired_key.json()["detail"]


def test_an_expired_share_is_refused_with_its_date(site) -> None:
    server, asset = site["server"], site["assets"][0]
    key_id, private = KeyStore(site["home"] / "signing-keys").signing_key()
    past = int(time.time()) - 3600
    stale = share_token(Signer(key_id, private), asset, past)
    answer = playback(server, asset, stale)
    assert answer.status_code == 403
    assert answer.json()["detail"] == f"This share link expired on {when(past)}."
    assert answer.headers["X-PrimeVOD-Reason"] == "share-expired"


def test_cli_share_prints_a_link_that_plays(site) -> None:
    server, asset = site["server"], site["assets"][1]
    done = run_cli(
        site["home"],
        "share",
        asset,
        "--expires-in",
        "600",
        "--json",
        PRIMEVOD_PUBLIC_URL=server.base,
    )
    assert done.returncode == 0, done.stderr
    link = json.loads(done.stdout)
    assert link["url"].startswith(f"{server.base}/watch/{asset}?token=")
    assert playback(server, asset, link["token"]).status_code == 200
    text = run_cli(site["home"], "share", asset, PRIMEVOD_PUBLIC_URL=server.base)
    assert text.returncode == 0 and f"{server.base}/watch/{asset}?token=" in text.stdout
    bounded = run_cli(site["home"], "share", asset, "--expires-in", "5")
    assert bounded.returncode == 2 and "expires_in" in bounded.stderr
    viewer = run_cli(site["home"], "share", asset, PRIMEVOD_API_KEY=server.keys["viewer"])
    assert viewer.returncode == 3
    # both the API's shares and the CLI's are in the audit trail, the viewer's refusal too
    deadline = time.monotonic() + 10
    while True:
        records = httpx.get(
            f"{server.base}/api/v1/audit",
            params={"action": "assets:Share", "limit": 100},
            headers=server.auth("admin"),
        ).json()["items"]
        origins = {(r["origin"], r["status"]) for r in records}
        if {("cli", 200), ("cli", 403), ("api", 200), ("api", 403)} <= origins:
            break
        assert time.monotonic() < deadline, origins
        time.sleep(0.3)


def test_a_name_that_is_no_asset_id_is_404_before_any_token_check(site) -> None:
    server, asset = site["server"], site["assets"][0]
    token = share(server, asset, expires_in=3600).json()["token"]
    for name in ("not-an-asset", asset.upper(), f"{asset}x"):
        answer = playback(server, name, token)
        assert answer.status_code == 404, (name, answer.text)
        assert "X-PrimeVOD-Reason" not in answer.headers  # no signature was looked at


def test_cli_share_links_never_name_a_wildcard_bind_address(site) -> None:
    asset = site["assets"][1]
    done = run_cli(site["home"], "share", asset, "--json", PRIMEVOD_HOST="0.0.0.0")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["url"].startswith(f"http://127.0.0.1:8000/watch/{asset}?")


def test_no_active_signing_key_is_a_clear_503(site) -> None:
    """Last: it retires the signing keys (and makes a new one for whatever runs after)."""
    server, asset = site["server"], site["assets"][0]
    keys = KeyStore(site["home"] / "signing-keys")
    for key in keys.list():
        if key["status"] == "active":
            keys.retire(key["id"])
    answer = share(server, asset)
    assert answer.status_code == 503, answer.text
    detail = answer.json()["detail"]
    assert "key.none" in detail and "signing-keys create" in detail
    cli = run_cli(site["home"], "share", asset)
    assert cli.returncode == 2 and "key.none" in cli.stderr
    keys.create()
    assert share(server, asset).status_code == 200
