"""The HTTP API over a real `primevod serve` (uvicorn on loopback)."""

from __future__ import annotations

import time

import httpx
import pytest

from primevod.adapters.storage.local_store import LocalObjectStore


@pytest.fixture(scope="module")
def server(tmp_path_factory, clip):
    from support.server import Server

    srv = Server(tmp_path_factory.mktemp("apihome"), PRIMEVOD_INBOX_POLL_SECONDS="0.3")
    # a file dropped in the source inbox becomes a ready asset
    LocalObjectStore(srv.home / "store").put_file("source", "inbox/api clip.mp4", clip("small.mp4"))
    yield {"base": srv.base, "keys": srv.keys, "home": srv.home, "catalog": srv.catalog}
    srv.stop()


def auth(server, role: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {server['keys'][role]}"}


def ready_asset(server) -> dict:
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        r = httpx.get(f"{server['base']}/api/v1/assets", headers=auth(server, "viewer"))
        items = [a for a in r.json()["items"] if a["status"] in ("ready", "failed")]
        if items:
            return items[0]
        time.sleep(0.3)
    raise AssertionError("no asset became ready")


def test_health_and_openapi(server) -> None:
    r = httpx.get(f"{server['base']}/healthz")
    assert r.status_code == 200 and r.json()["status"] == "ok"
    spec = httpx.get(f"{server['base']}/openapi.json").json()
    for path in (
        "/api/v1/assets",
        "/api/v1/assets/{asset_id}",
        "/api/v1/executions/{execution_id}",
        "/api/v1/assets/{asset_id}/retry",
        "/api/v1/subscriptions",
    ):
        assert path in spec["paths"]
    assert httpx.get(f"{server['base']}/docs").status_code == 200


def test_inbox_asset_reaches_ready_and_is_listed(server) -> None:
    asset = ready_asset(server)
    assert asset["status"] == "ready", asset["error"]
    assert asset["title"] == "api clip"
    r = httpx.get(f"{server['base']}/api/v1/assets/{asset['id']}", headers=auth(server, "viewer"))
    assert r.status_code == 200 and r.json()["hls_path"].endswith("master.m3u8")
    execution = httpx.get(
        f"{server['base']}/api/v1/executions/{asset['execution_id']}",
        headers=auth(server, "viewer"),
    ).json()
    assert [s["name"] for s in execution["steps"]] == [
        "ingest",
        "budget",
        "process",
        "quality",
        "publish",
    ]
    events = httpx.get(
        f"{server['base']}/api/v1/events",
        params={"asset_id": asset["id"]},
        headers=auth(server, "viewer"),
    ).json()
    assert events[-1]["type"] == "asset.ready"


def test_auth_is_required_and_roles_are_checked(server) -> None:
    base = server["base"]
    assert httpx.get(f"{base}/api/v1/assets").status_code == 401
    bad = httpx.get(f"{base}/api/v1/assets", headers={"Authorization": "Bearer pv_x_y"})
    assert bad.status_code == 401 and "invalid" in bad.json()["detail"]
    asset = ready_asset(server)
    r = httpx.post(f"{base}/api/v1/assets/{asset['id']}/retry", headers=auth(server, "viewer"))
    assert r.status_code == 403 and "role viewer" in r.json()["detail"]
    r = httpx.delete(f"{base}/api/v1/assets/{asset['id']}", headers=auth(server, "uploader"))
    assert r.status_code == 403
    r = httpx.get(f"{base}/api/v1/subscriptions", headers=auth(server, "viewer"))
    assert r.status_code == 403


def test_bad_requests(server) -> None:
    base, h = server["base"], auth(server, "admin")
    assert httpx.get(f"{base}/api/v1/assets/nope", headers=h).status_code == 404
    assert httpx.get(f"{base}/api/v1/executions/nope", headers=h).status_code == 404
    assert httpx.get(f"{base}/api/v1/assets", params={"limit": 0}, headers=h).status_code == 422
    r = httpx.get(f"{base}/api/v1/assets", params={"cursor": "!!"}, headers=h)
    assert r.status_code == 422 and "cursor" in r.json()["detail"]
    r = httpx.get(f"{base}/api/v1/assets", params={"status": "bogus"}, headers=h)
    assert r.status_code == 422
    asset = ready_asset(server)
    r = httpx.post(f"{base}/api/v1/assets/{asset['id']}/retry", headers=h)
    assert r.status_code == 409 and "only failed assets" in r.json()["detail"]


def test_subscriptions_routes(server) -> None:
    base, h = server["base"], auth(server, "admin")
    r = httpx.post(
        f"{base}/api/v1/subscriptions",
        headers=h,
        json={
            "kind": "webhook",
            "url": "https://hooks.example.invalid/hook",  # public (or unknown yet): accepted
            "event_types": ["asset.ready", "asset.failed"],
        },
    )
    assert r.status_code == 201 and r.json()["secret"].startswith("whsec_")
    sub_id = r.json()["id"]
    assert (
        httpx.post(f"{base}/api/v1/subscriptions", headers=h, json={"kind": "webhook"}).status_code
        == 422
    )
    assert (
        httpx.post(
            f"{base}/api/v1/subscriptions",
            headers=h,
            json={"url": "http://x", "event_types": ["nope"]},
        ).status_code
        == 422
    )
    listed = httpx.get(f"{base}/api/v1/subscriptions", headers=h).json()
    assert sub_id in [s["id"] for s in listed] and "secret" not in listed[0]
    q = httpx.post(
        f"{base}/api/v1/subscriptions", headers=h, json={"kind": "queue", "name": "ops"}
    ).json()
    assert (
        httpx.post(f"{base}/api/v1/subscriptions/{q['id']}/receive", headers=h, json={}).json()
        == []
    )
    assert (
        httpx.post(f"{base}/api/v1/subscriptions/{sub_id}/receive", headers=h, json={}).status_code
        == 409
    )
    assert httpx.delete(f"{base}/api/v1/subscriptions/{sub_id}", headers=h).status_code == 204
    assert httpx.delete(f"{base}/api/v1/subscriptions/{sub_id}", headers=h).status_code == 404


def test_delete_asset_removes_outputs(server) -> None:
    base, h = server["base"], auth(server, "admin")
    asset = ready_asset(server)
    out = server["home"] / "store" / "buckets" / "destination" / "assets" / asset["id"]
    assert out.is_dir()
    assert httpx.delete(f"{base}/api/v1/assets/{asset['id']}", headers=h).status_code == 204
    assert httpx.get(f"{base}/api/v1/assets/{asset['id']}", headers=h).status_code == 404
    assert not out.exists()
