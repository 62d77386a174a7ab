"""The library's sort order and the caller's recent uploads: keyset pages newest or oldest
first on SQLite and PostgreSQL (ties on the creation time included), `GET /api/v1/assets
?order=`, and `GET /api/v1/uploads` (the calling key's uploads only, newest first, paged,
with the status of the asset each became) on a real server."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest

from primevod.adapters.catalog.sql_catalog import SqlCatalog
from primevod.core.assets import Asset
from primevod.core.uploads import UploadSession

T0 = datetime(2026, 6, 1, tzinfo=UTC)
PART = 64 * 1024


def _asset(asset_id: str, minutes: int) -> Asset:
    return Asset(
        id=asset_id,
        source_bucket="source",
        source_key=f"{asset_id}/in.mp4",
        created_at=T0 + timedelta(minutes=minutes),
    )


def _upload(upload_id: str, owner: str | None, minutes: int) -> UploadSession:
    created = T0 + timedelta(minutes=minutes)
    return UploadSession(
        upload_id=upload_id,
        key=f"uploads/{upload_id}/a.mp4",
        asset_id=f"asset-{upload_id}",
        filename="a.mp4",
        content_type="video/mp4",
        size=10,
        part_size=10,
        max_parts=1,
        created_at=created,
        expires_at=created + timedelta(hours=1),
        owner=owner,
    )


@pytest.fixture(params=["sqlite", "postgres"])
def catalog(request, tmp_path: Path) -> SqlCatalog:
    if request.param == "postgres":
        url = request.getfixturevalue("postgres")()
    else:
        url = f"sqlite:///{tmp_path / 'catalog.db'}"
    return SqlCatalog(url)


def _walk(catalog: SqlCatalog, order: str, limit: int) -> list[str]:
    seen: list[str] = []
    cursor = None
    while True:
        page = catalog.list_assets(limit=limit, cursor=cursor, order=order)  # type: ignore[arg-type]
        seen += [a.id for a in page.items]
        if page.next_cursor is None:
            return seen
        cursor = page.next_cursor


def test_keyset_pages_in_both_orders_with_ties(catalog: SqlCatalog) -> None:
    # b, c and d were created in the same instant: the id breaks the tie, both ways
    for asset_id, minutes in (("a", 0), ("c", 5), ("b", 5), ("d", 5), ("e", 9)):
        catalog.create_asset(_asset(asset_id, minutes), event_type=None)
    newest_first = ["e", "d", "c", "b", "a"]
    for limit in (1, 2, 3, 10):
        assert _walk(catalog, "desc", limit) == newest_first, limit
        assert _walk(catalog, "asc", limit) == newest_first[::-1], limit
    # a page's cursor continues its own order only
    cursor = catalog.list_assets(limit=2, order="desc").next_cursor
    assert cursor is not None
    with pytest.raises(ValueError, match="order=desc"):
        catalog.list_assets(limit=2, cursor=cursor, order="asc")
    with pytest.raises(ValueError, match="invalid cursor"):
        catalog.list_assets(cursor="not-a-cursor!")


def test_uploads_are_listed_per_owner_newest_first(catalog: SqlCatalog) -> None:
    for upload_id, owner, minutes in (
        ("u1", "k1", 0),
        ("u2", "k2", 1),
        ("u3", "k1", 2),
        ("u4", None, 3),
        ("u5", "k1", 2),  # same instant as u3
    ):
        catalog.create_upload(_upload(upload_id, owner, minutes))
    first = catalog.list_uploads("k1", limit=2)
    assert [u.upload_id for u in first.items] == ["u5", "u3"]
    assert first.next_cursor
    rest = catalog.list_uploads("k1", limit=2, cursor=first.next_cursor)
    assert [u.upload_id for u in rest.items] == ["u1"] and rest.next_cursor is None
    assert [u.upload_id for u in catalog.list_uploads("k2").items] == ["u2"]
    assert catalog.list_uploads("nobody").items == []


# -- over HTTP -----------------------------------------------------------------------------
@pytest.fixture(scope="module")
def server(tmp_path_factory):
    from support.server import Server

    srv = Server(
        tmp_path_factory.mktemp("libhome"),
        PRIMEVOD_UPLOAD_MIN_PART_SIZE=str(PART),
        PRIMEVOD_UPLOAD_PART_SIZE=str(PART),
        PRIMEVOD_QUALITY_CHECK="off",
    )
    for asset_id, minutes in (("old", 0), ("mid", 10), ("new", 20)):
        srv.catalog.create_asset(_asset(asset_id, minutes), event_type=None)
    yield srv
    srv.stop()


def _get(server, path: str, role: str = "viewer", **params: object) -> httpx.Response:
    return httpx.get(f"{server.base}{path}", params=params, headers=server.auth(role), timeout=30)


def test_assets_sorted_newest_or_oldest_first(server) -> None:
    ids = lambda r: [a["id"] for a in r.json()["items"]]  # noqa: E731
    assert ids(_get(server, "/api/v1/assets")) == ["new", "mid", "old"]
    assert ids(_get(server, "/api/v1/assets", order="desc")) == ["new", "mid", "old"]
    oldest = _get(server, "/api/v1/assets", order="asc", limit=2)
    assert oldest.status_code == 200 and ids(oldest) == ["old", "mid"]
    after = _get(server, "/api/v1/assets", order="asc", cursor=oldest.json()["next_cursor"])
    assert ids(after) == ["new"] and after.json()["next_cursor"] is None


@pytest.mark.parametrize("order", ["newest", "ASC", "", "desc;drop"])
def test_a_bad_order_is_422(server, order: str) -> None:
    r = _get(server, "/api/v1/assets", order=order)
    assert r.status_code == 422, r.text
    assert "order" in r.text


def test_a_cursor_of_the_other_order_is_422(server) -> None:
    cursor = _get(server, "/api/v1/assets", limit=1).json()["next_cursor"]
    r = _get(server, "/api/v1/assets", order="asc", cursor=cursor)
    assert r.status_code == 422 and "order=desc" in r.json()["detail"]


def _init(server, role: str, name: str, size: int = 1000) -> dict:
    r = httpx.post(
        f"{server.base}/api/v1/uploads/init",
        json={"filename": name, "content_type": "video/mp4", "size": size},
        headers=server.auth(role),
        timeout=30,
    )
    assert r.status_code == 201, r.text
    return r.json()


def _complete(server, role: str, session: dict, data: bytes) -> dict:
    parts = []
    size = session["part_size"]
    for n in range(1, -(-len(data) // size) + 1):
        signed = httpx.post(
            f"{server.base}/api/v1/uploads/signPart",
            json={"upload_id": session["upload_id"], "key": session["key"], "part_number": n},
            headers=server.auth(role),
        ).json()
        put = httpx.put(signed["url"], content=data[(n - 1) * size : n * size], timeout=30)
        assert put.status_code == 200, put.text
        parts.append({"PartNumber": n, "ETag": put.headers["ETag"]})
    done = httpx.post(
        f"{server.base}/api/v1/uploads/complete",
        json={"upload_id": session["upload_id"], "key": session["key"], "parts": parts},
        headers=server.auth(role),
        timeout=60,
    )
    assert done.status_code == 200, done.text
    return done.json()


def test_recent_uploads_are_the_callers_own_paged_with_asset_status(server, clip) -> None:
    data = clip("small.mp4").read_bytes()
    first = _init(server, "uploader", "first.mp4", len(data))
    mine = [_init(server, "uploader", f"later-{n}.mp4") for n in range(2)]
    theirs = _init(server, "admin", "admins.mp4")
    asset_id = _complete(server, "uploader", first, data)["asset_id"]

    listed = _get(server, "/api/v1/uploads", "uploader")
    assert listed.status_code == 200, listed.text
    items = listed.json()["items"]
    # newest first, and only the uploader key's own
    assert [i["upload_id"] for i in items] == [
        mine[1]["upload_id"],
        mine[0]["upload_id"],
        first["upload_id"],
    ]
    assert theirs["upload_id"] not in {i["upload_id"] for i in items}
    done = items[2]
    assert (done["filename"], done["status"], done["asset_id"]) == (
        "first.mp4",
        "completed",
        asset_id,
    )
    assert done["asset"]["status"] in {"ingesting", "processing", "publishing", "ready"}
    assert 0.0 <= done["asset"]["progress"] <= 1.0
    assert items[0]["status"] == "open" and items[0]["asset"] is None
    admins = _get(server, "/api/v1/uploads", "admin").json()["items"]
    assert [i["upload_id"] for i in admins] == [theirs["upload_id"]]

    # a page at a time
    page = _get(server, "/api/v1/uploads", "uploader", limit=2).json()
    assert len(page["items"]) == 2 and page["next_cursor"]
    rest = _get(server, "/api/v1/uploads", "uploader", limit=2, cursor=page["next_cursor"])
    assert [i["upload_id"] for i in rest.json()["items"]] == [first["upload_id"]]
    assert rest.json()["next_cursor"] is None


@pytest.mark.parametrize(
    ("params", "role", "status"),
    [
        ({}, "viewer", 403),  # a viewer cannot upload, so has no uploads to list
        ({"limit": 0}, "uploader", 422),
        ({"limit": 101}, "uploader", 422),
        ({"limit": "many"}, "uploader", 422),
        ({"cursor": "junk!"}, "uploader", 422),
    ],
)
def test_recent_uploads_refusals(server, params: dict, role: str, status: int) -> None:
    r = _get(server, "/api/v1/uploads", role, **params)
    assert r.status_code == status, r.text


def test_recent_uploads_need_a_key(server) -> None:
    assert httpx.get(f"{server.base}/api/v1/uploads").status_code == 401
