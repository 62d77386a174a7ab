"""Search and asset details on a real server and through the CLI: GET /api/v1/search ranks,
filters, pages and refuses bad queries with 400; PATCH /api/v1/assets/{id} changes the words
the index holds at once; a key limited to a collection finds only that collection."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from support.cli import run_cli
from support.server import Server

from primevod.core.assets import Asset

T0 = datetime(2026, 6, 1, tzinfo=UTC)
COURSE = {
    "Statement": [
        {"Effect": "Allow", "Action": "assets:*", "Resource": "collection/course-1/*"},
    ]
}


def _asset(asset_id: str, minutes: int, **fields: object) -> Asset:
    return Asset(
        id=asset_id,
        source_bucket="source",
        source_key=f"{asset_id}/in.mp4",
        created_at=T0 + timedelta(minutes=minutes),
        **fields,  # type: ignore[arg-type]
    )


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    home: Path = tmp_path_factory.mktemp("search")
    server = Server(home)
    catalog = server.catalog
    catalog.create_asset(_asset("t", 0, title="Kestrel hovering"), event_type=None)
    catalog.create_asset(_asset("d", 1, title="Field", description="a kestrel"), event_type=None)
    catalog.create_asset(
        _asset("c", 2, title="Kestrel course", metadata={"collection": "course-1"}),
        event_type=None,
    )
    key = catalog.create_key("custom", "course", COURSE)
    yield {"server": server, "home": home, "course": {"Authorization": f"Bearer {key}"}}
    server.stop()


def search(site, params: dict[str, object], role: str = "viewer") -> httpx.Response:  # type: ignore[no-untyped-def]
    server = site["server"]
    headers = site["course"] if role == "course" else server.auth(role)
    return httpx.get(f"{server.base}/api/v1/search", params=params, headers=headers)


def test_ranked_filtered_and_paged(site) -> None:  # type: ignore[no-untyped-def]
    found = [a["id"] for a in search(site, {"q": "kest"}).json()["items"]]
    assert sorted(found[:2]) == ["c", "t"] and found[2] == "d"  # titles above a description
    first = search(site, {"q": "kest", "limit": 2}).json()
    assert len(first["items"]) == 2 and first["next_cursor"]
    rest = search(site, {"q": "kest", "limit": 2, "cursor": first["next_cursor"]}).json()
    assert [a["id"] for a in first["items"] + rest["items"]] == found
    assert rest["next_cursor"] is None
    filtered = search(site, {"q": "kestrel", "collection": "course-1"}).json()
    assert [a["id"] for a in filtered["items"]] == ["c"]


def test_bad_queries_get_400_with_the_reason(site) -> None:  # type: ignore[no-untyped-def]
    unbalanced = search(site, {"q": '"kestrel'})
    assert unbalanced.status_code == 400
    assert "unbalanced quote" in unbalanced.json()["detail"]
    assert search(site, {"q": "x", "cursor": "garbage"}).status_code == 400
    assert search(site, {"q": "-only"}).status_code == 400
    assert search(site, {"status": "nonsense"}).status_code == 422


def test_a_collection_key_finds_only_its_collection(site) -> None:  # type: ignore[no-untyped-def]
    found = search(site, {"q": "kestrel"}, role="course").json()
    assert [a["id"] for a in found["items"]] == ["c"]


def test_patch_changes_the_words_found(site) -> None:  # type: ignore[no-untyped-def]
    server = site["server"]
    url = f"{server.base}/api/v1/assets/d"
    admin, viewer = server.auth("admin"), server.auth("viewer")
    assert httpx.patch(url, json={"title": "Osprey"}, headers=viewer).status_code == 403
    body = {"description": "fishing", "tags": ["raptor", " Raptor ", "lake"]}
    body["metadata"] = {"camera": {"model": "Z9"}}
    changed = httpx.patch(url, json=body, headers=server.auth("uploader"))
    assert changed.status_code == 200, changed.text
    assert changed.json()["tags"] == ["raptor", "lake"]
    assert [a["id"] for a in search(site, {"q": "raptor z9"}).json()["items"]] == ["d"]
    assert search(site, {"q": "kestrel"}).json()["items"][-1]["id"] != "d"
    removed = httpx.patch(url, json={"metadata": {"camera": None}}, headers=admin).json()
    assert "camera" not in removed["metadata"]
    assert search(site, {"q": "z9"}).json()["items"] == []


@pytest.mark.parametrize(
    ("body", "status", "says"),
    [
        ({"metadata": {"collection": "x"}}, 400, "set by the system"),
        ({"metadata": {"blob": "x" * 20000}}, 400, "at most 16384"),
        ({"tags": ["t" * 65]}, 422, "longer than 64"),
        ({"title": ""}, 422, "at least 1"),
        ({"title": None}, 400, "cannot be removed"),
    ],
)
def test_patch_refusals(site, body: dict[str, object], status: int, says: str) -> None:  # type: ignore[no-untyped-def]
    server = site["server"]
    url = f"{server.base}/api/v1/assets/t"
    response = httpx.patch(url, json=body, headers=server.auth("admin"))
    assert response.status_code == status, response.text
    assert says in response.text
    assert (
        httpx.patch(
            f"{server.base}/api/v1/assets/nope", json={}, headers=server.auth("admin")
        ).status_code
        == 404
    )


def test_cli_search(site) -> None:  # type: ignore[no-untyped-def]
    done = run_cli(site["home"], "search", "kestrel", "--collection", "course-1", "--json")
    assert done.returncode == 0, done.stderr
    assert [a["asset_id"] for a in json.loads(done.stdout)["items"]] == ["c"]
    bad = run_cli(site["home"], "search", '"open')
    assert bad.returncode == 2 and "unbalanced quote" in bad.stderr


def test_process_takes_the_details(tmp_path: Path, clip) -> None:  # type: ignore[no-untyped-def]
    args = ["--title", "Harbour seal", "--description", "low tide", "--tag", "seal"]
    done = run_cli(tmp_path, "process", str(clip("small.mp4")), *args, "--tag", "coast", "--json")
    assert done.returncode == 0, done.stderr
    asset_id = json.loads(done.stdout)["asset_id"]
    found = run_cli(tmp_path, "search", "tide coast", "--json")
    items = json.loads(found.stdout)["items"]
    assert [a["asset_id"] for a in items] == [asset_id]
    assert items[0]["tags"] == ["seal", "coast"] and items[0]["description"] == "low tide"
    refused = run_cli(tmp_path, "process", str(clip("small.mp4")), "--tag", "x" * 65)
    assert refused.returncode == 2 and "longer than 64" in refused.stderr
