"""Multipart uploads over a real server: every route, the bad cases, 20 at once."""

from __future__ import annotations

import base64
import hashlib
import time
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import parse_qs, urlencode, urlparse

import httpx
import pytest
from support.upload_server import PART, upload_server


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    srv = upload_server(tmp_path_factory.mktemp("uphome"))
    yield srv
    srv.stop()


def api(server, method: str, path: str, role: str = "uploader", **kw) -> httpx.Response:
    return httpx.request(
        method, f"{server.base}/api/v1/uploads{path}", headers=server.auth(role), timeout=30, **kw
    )


def init(server, data: bytes, name: str = "clip.mp4", **extra) -> dict:
    r = api(
        server,
        "POST",
        "/init",
        json={"filename": name, "content_type": "video/mp4", "size": len(data), **extra},
    )
    assert r.status_code == 201, r.text
    return r.json()


def upload_parts(server, session: dict, data: bytes) -> list[dict]:
    parts = []
    size = session["part_size"]
    for n in range(1, -(-len(data) // size) + 1):
        chunk = data[(n - 1) * size : n * size]
        signed = api(
            server,
            "POST",
            "/signPart",
            json={"upload_id": session["upload_id"], "key": session["key"], "part_number": n},
        )
        assert signed.status_code == 200, signed.text
        put = httpx.put(signed.json()["url"], content=chunk, timeout=30)
        assert put.status_code == 200, put.text
        parts.append({"PartNumber": n, "ETag": put.headers["ETag"]})
    return parts


def test_upload_a_real_clip_end_to_end(server, clip) -> None:
    data = clip("long9s.mp4").read_bytes()
    details = {"description": "a gull over the pier", "tags": ["sea", "Sea", "birds"]}
    metadata = {"title": "My film", "camera": {"model": "X100"}}
    session = init(server, data, "My Film.mp4", metadata=metadata, **details)
    assert session["part_size"] == PART and session["max_parts"] == -(-len(data) // PART)
    assert session["key"].endswith("/My Film.mp4")
    parts = upload_parts(server, session, data)
    listed = api(
        server, "GET", f"/{session['upload_id']}/parts", params={"key": session["key"]}
    ).json()
    assert [p["PartNumber"] for p in listed] == [p["PartNumber"] for p in parts]
    assert [p["ETag"] for p in listed] == [p["ETag"] for p in parts]
    done = api(server, "POST", "/complete", json={**_ids(session), "parts": parts})
    assert done.status_code == 200, done.text
    result = done.json()
    assert result["location"] == f"source/{session['key']}"
    again = api(server, "POST", "/complete", json={**_ids(session), "parts": parts})
    assert again.json() == result  # completing twice is the same asset
    stored = server.home / "store" / "buckets" / "source" / session["key"]
    assert hashlib.sha256(stored.read_bytes()).digest() == hashlib.sha256(data).digest()
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        asset = httpx.get(
            f"{server.base}/api/v1/assets/{result['asset_id']}", headers=server.auth("viewer")
        ).json()
        if asset["status"] in ("ready", "failed"):
            break
        time.sleep(0.3)
    assert asset["status"] == "ready", asset["error"]
    assert asset["title"] == "My film" and asset["execution_id"] == result["execution_id"]
    assert asset["description"] == details["description"] and asset["tags"] == ["sea", "birds"]
    assert asset["metadata"]["camera"] == {"model": "X100"} and "title" not in asset["metadata"]
    found = httpx.get(
        f"{server.base}/api/v1/search", params={"q": "gull x100"}, headers=server.auth("viewer")
    ).json()
    assert [a["id"] for a in found["items"]] == [result["asset_id"]]


def _ids(session: dict) -> dict:
    return {"upload_id": session["upload_id"], "key": session["key"]}


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"filename": "a.mp4", "content_type": "video/mp4", "size": 0}, "empty"),
        ({"filename": "a.txt", "content_type": "text/plain", "size": 10}, "not a video"),
        (
            {"filename": "a.exe", "content_type": "application/octet-stream", "size": 10},
            "not a video",
        ),
        ({"filename": "a.mp4", "content_type": "video/mp4", "size": 60 * 2**30}, "limit"),
        ({"filename": "a.mp4", "content_type": "video/mp4", "size": 9, "tags": ["x" * 65]}, "64"),
        (
            {"filename": "a.mp4", "content_type": "video/mp4", "size": 9}
            | {"metadata": {"notes": "n" * 17000}},
            "16384",
        ),
    ],
)
def test_init_rejects(server, body, message) -> None:
    r = api(server, "POST", "/init", json=body)
    assert r.status_code == 400 and message in r.json()["detail"]


def test_roles_and_missing_key(server) -> None:
    body = {"filename": "a.mp4", "content_type": "video/mp4", "size": 10}
    assert httpx.post(f"{server.base}/api/v1/uploads/init", json=body).status_code == 401
    assert api(server, "POST", "/init", role="viewer", json=body).status_code == 403
    assert api(server, "POST", "/init", role="admin", json=body).status_code == 201
    assert api(server, "POST", "/init", json={"filename": "a.mp4"}).status_code == 422


def test_part_url_tampered_expired_and_wrong_part(server) -> None:
    data = b"x" * (PART + 10)
    session = init(server, data)
    url = api(server, "POST", "/signPart", json={**_ids(session), "part_number": 1}).json()["url"]
    parsed = urlparse(url)
    query = {k: v[0] for k, v in parse_qs(parsed.query).items()}
    base = f"{parsed.scheme}://{parsed.netloc}{parsed.path}"
    tampered = {**query, "sig": query["sig"][:-1] + ("0" if query["sig"][-1] != "0" else "1")}
    r = httpx.put(f"{base}?{urlencode(tampered)}", content=data[:PART])
    assert r.status_code == 403 and "signature" in r.json()["detail"]
    expired = {**query, "expires": "1000"}
    assert httpx.put(f"{base}?{urlencode(expired)}", content=b"x").status_code == 403
    other_part = base.replace("/parts/1", "/parts/2")
    assert httpx.put(f"{other_part}?{urlencode(query)}", content=b"x").status_code == 403
    too_big = httpx.put(url, content=b"x" * (PART + 1))
    assert too_big.status_code == 400 and "larger" in too_big.json()["detail"]
    bad_sum = httpx.put(
        url,
        content=data[:PART],
        headers={
            "x-amz-checksum-sha256": base64.b64encode(hashlib.sha256(b"other").digest()).decode()
        },
    )
    assert bad_sum.status_code == 400 and "SHA-256" in bad_sum.json()["detail"]
    good_sum = httpx.put(
        url,
        content=data[:PART],
        headers={
            "x-amz-checksum-sha256": base64.b64encode(hashlib.sha256(data[:PART]).digest()).decode()
        },
    )
    assert good_sum.status_code == 200 and good_sum.headers["ETag"]
    r = api(server, "POST", "/signPart", json={**_ids(session), "part_number": 99})
    assert r.status_code == 400


def test_complete_bad_cases(server) -> None:
    data = b"y" * (2 * PART + 5)
    session = init(server, data)
    parts = upload_parts(server, session, data)
    cases = [
        ([{"PartNumber": 1, "ETag": '"0000"'}, *parts[1:]], "ETag"),
        ([parts[1], parts[0], parts[2]], "ascending"),
        ([*parts[:2], {"PartNumber": 4, "ETag": parts[0]["ETag"]}], "not uploaded"),
    ]
    for listed, message in cases:
        r = api(server, "POST", "/complete", json={**_ids(session), "parts": listed})
        assert r.status_code == 400 and message in r.json()["detail"], (message, r.text)
    # part 1 replaced by 4 bytes: every part but the last must reach the minimum
    short = api(server, "POST", "/signPart", json={**_ids(session), "part_number": 1})
    small = httpx.put(short.json()["url"], content=b"tiny")
    listed = [{"PartNumber": 1, "ETag": small.headers["ETag"]}, *parts[1:]]
    r = api(server, "POST", "/complete", json={**_ids(session), "parts": listed})
    assert r.status_code == 400 and "at least" in r.json()["detail"]
    unknown = api(
        server, "POST", "/complete", json={"upload_id": "nope", "key": "x", "parts": parts}
    )
    assert unknown.status_code == 404
    wrong_key = api(
        server,
        "POST",
        "/complete",
        json={"upload_id": session["upload_id"], "key": "uploads/other.mp4", "parts": parts},
    )
    assert wrong_key.status_code == 404
    assert api(server, "POST", "/complete", json={**_ids(session), "parts": []}).status_code == 422


def test_abort_then_complete_and_list(server) -> None:
    data = b"z" * (PART + 1)
    session = init(server, data)
    parts = upload_parts(server, session, data)
    folder = server.home / "store" / "uploads" / "source" / session["upload_id"]
    assert folder.is_dir()
    assert api(server, "POST", "/abort", json=_ids(session)).status_code == 204
    assert not folder.exists()  # stored parts removed
    assert (
        api(server, "POST", "/complete", json={**_ids(session), "parts": parts}).status_code == 404
    )
    assert (
        api(
            server, "GET", f"/{session['upload_id']}/parts", params={"key": session["key"]}
        ).status_code
        == 404
    )
    assert api(server, "POST", "/abort", json=_ids(session)).status_code == 404


def test_cors_exposes_etag(server) -> None:
    r = httpx.options(
        f"{server.base}/api/v1/uploads/x/parts/1",
        headers={"Origin": "http://example.test", "Access-Control-Request-Method": "PUT"},
    )
    assert r.status_code == 200 and r.headers["access-control-allow-origin"] in (
        "*",
        "http://example.test",
    )
    session = init(server, b"q" * 10)
    url = api(server, "POST", "/signPart", json={**_ids(session), "part_number": 1}).json()["url"]
    put = httpx.put(url, content=b"q" * 10, headers={"Origin": "http://example.test"})
    assert "etag" in put.headers["access-control-expose-headers"].lower()


def test_twenty_uploads_at_once(server) -> None:
    """20 uploads of 4 parts each, all parts in flight together; every object intact."""
    import os

    payloads = [os.urandom(3 * PART + 1000 + i) for i in range(20)]

    def one(data: bytes) -> tuple[str, bytes]:
        session = init(server, data, "burst.mp4")
        with ThreadPoolExecutor(4) as pool:
            signed = [
                api(server, "POST", "/signPart", json={**_ids(session), "part_number": n}).json()[
                    "url"
                ]
                for n in range(1, 5)
            ]
            puts = list(
                pool.map(
                    lambda a: httpx.put(a[0], content=a[1], timeout=60),
                    [(signed[n], data[n * PART : (n + 1) * PART]) for n in range(4)],
                )
            )
        parts = [{"PartNumber": n + 1, "ETag": p.headers["ETag"]} for n, p in enumerate(puts)]
        done = api(server, "POST", "/complete", json={**_ids(session), "parts": parts})
        assert done.status_code == 200, done.text
        return session["key"], data

    with ThreadPoolExecutor(20) as pool:
        results = list(pool.map(one, payloads))
    for key, data in results:
        stored = (server.home / "store" / "buckets" / "source" / key).read_bytes()
        assert hashlib.sha256(stored).hexdigest() == hashlib.sha256(data).hexdigest()


def test_incomplete_uploads_expire(server) -> None:
    """The lifecycle rule, run directly against the server's data folder."""
    from datetime import timedelta

    from primevod import wiring
    from primevod.core.assets import utcnow
    from primevod.pipeline import uploads
    from primevod.pipeline.runtime import runtime
    from primevod.settings import Settings

    data = b"e" * (PART + 1)
    session = init(server, data)
    upload_parts(server, session, data)
    wiring.build(Settings(home=server.home))
    server.catalog.update_upload(session["upload_id"], expires_at=utcnow() - timedelta(seconds=1))
    assert uploads.expire_stale(runtime()) >= 1
    assert not (server.home / "store" / "uploads" / "source" / session["upload_id"]).exists()
    assert (
        api(
            server, "GET", f"/{session['upload_id']}/parts", params={"key": session["key"]}
        ).status_code
        == 404
    )
