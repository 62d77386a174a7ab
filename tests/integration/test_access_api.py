"""Policies on a real server: a key limited to one collection reads, lists and plays only that
collection's assets (another's answer 404 as if they did not exist), uploads only into it,
and an explicit Deny wins; the roles keep working; `primevod keys simulate` says which
statement decided."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest
from support.cli import run_cli
from support.server import Server

COURSE = {
    "Statement": [
        {
            "Sid": "course",
            "Effect": "Allow",
            "Action": ["assets:*", "playback:Get", "uploads:Create"],
            "Resource": "collection/course-1/*",
        },
        {"Sid": "keep", "Effect": "Deny", "Action": "assets:Delete", "Resource": "*"},
    ]
}


@pytest.fixture(scope="module")
def site(tmp_path_factory, clip):
    home = tmp_path_factory.mktemp("access")
    made = {}
    for collection in ("course-1", "course-2"):
        done = run_cli(
            home, "process", str(clip("small.mp4")), "--collection", collection, "--json"
        )
        assert done.returncode == 0, done.stderr
        made[collection] = json.loads(done.stdout)["asset_id"]
    server = Server(home)
    key = server.catalog.create_key("custom", "course key", COURSE)
    yield {
        "server": server,
        "key": {"Authorization": f"Bearer {key}"},
        "assets": made,
        "home": home,
    }
    server.stop()


def test_a_collection_key_sees_only_its_collection(site) -> None:
    server, key = site["server"], site["key"]
    mine, other = site["assets"]["course-1"], site["assets"]["course-2"]
    base = f"{server.base}/api/v1/assets"
    assert httpx.get(f"{base}/{mine}", headers=key).json()["metadata"]["collection"] == "course-1"
    assert httpx.get(f"{base}/{other}", headers=key).status_code == 404
    listed = [a["id"] for a in httpx.get(base, headers=key).json()["items"]]
    assert listed == [mine]
    assert httpx.get(f"{base}/{mine}/playback", headers=key).status_code == 200
    assert httpx.get(f"{base}/{other}/playback", headers=key).status_code == 404
    assert httpx.delete(f"{base}/{other}", headers=key).status_code == 404
    denied = httpx.delete(f"{base}/{mine}", headers=key)
    assert denied.status_code == 403 and "statement 1 (keep) denies" in denied.json()["detail"]
    assert httpx.post(f"{server.base}/api/v1/alarms/evaluate", headers=key).status_code == 403
    # the roles still hold: a viewer reads everything and retries nothing
    viewer = server.auth("viewer")
    assert {a["id"] for a in httpx.get(base, headers=viewer).json()["items"]} == {mine, other}
    assert httpx.post(f"{base}/{mine}/retry", headers=viewer).status_code == 403


def test_a_collection_key_uploads_only_into_its_collection(site) -> None:
    server, key = site["server"], site["key"]
    init = {"filename": "clip.mp4", "content_type": "video/mp4", "size": 1000}
    url = f"{server.base}/api/v1/uploads/init"
    assert httpx.post(url, json={**init, "collection": "course-1"}, headers=key).status_code == 201
    assert httpx.post(url, json={**init, "collection": "course-2"}, headers=key).status_code == 403
    assert httpx.post(url, json=init, headers=key).status_code == 403  # outside any collection
    sneaky = {**init, "metadata": {"collection": "course-2"}}
    assert httpx.post(url, json=sneaky, headers=key).status_code == 403
    bad = httpx.post(url, json={**init, "collection": "../x"}, headers=server.auth("admin"))
    assert bad.status_code == 400 and "collection" in bad.json()["detail"]


def test_the_simulator_names_the_deciding_statement(site) -> None:
    home, mine = site["home"], site["assets"]["course-1"]
    key_id = next(k["id"] for k in site["server"].catalog.list_keys() if k["name"] == "course key")
    names = [f"asset/{mine}", f"collection/course-1/asset/{mine}"]
    allowed = run_cli(home, "keys", "simulate", key_id, "assets:Get", *names, "--json")
    assert allowed.returncode == 0, allowed.stderr
    assert json.loads(allowed.stdout)["sid"] == "course"
    denied = run_cli(home, "keys", "simulate", key_id, "assets:Delete", *names, "--json")
    assert denied.returncode == 1 and json.loads(denied.stdout)["sid"] == "keep"
    none = run_cli(home, "keys", "simulate", key_id, "alarms:Evaluate", "*")
    assert none.returncode == 1 and "implicit deny" in none.stdout


def test_keys_create_refuses_a_bad_policy(tmp_path: Path) -> None:
    bad = tmp_path / "policy.json"
    bad.write_text(json.dumps({"Statement": [{"Effect": "Allow", "Action": "assets:Destroy"}]}))
    done = run_cli(tmp_path / "home", "keys", "create", "--policy", str(bad))
    assert done.returncode == 2 and "policy.invalid" in done.stderr
    assert "Statement.0.Action" in done.stderr
