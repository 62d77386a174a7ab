"""Player beacons on a real server: accepted with the asset's own playback signature and
stored as one row per event; refused (and counted, never stored) when malformed, too large,
unsigned, expired, or signed for another asset."""

from __future__ import annotations

import json
import time

import httpx
import pytest
from support.cli import run_cli
from support.server import Server

from primevod.core.qoe import MAX_BEACON_BYTES

SESSION = "sess-0123456789"
LATER = "sess-later-000001"  # a session of its own, to be found among the stored


@pytest.fixture(scope="module")
def site(tmp_path_factory, clip):  # type: ignore[no-untyped-def]
    home = tmp_path_factory.mktemp("beacons")
    ids = []
    for _ in range(2):
        done = run_cli(home, "process", str(clip("small.mp4")), "--json")
        assert done.returncode == 0, done.stderr
        ids.append(json.loads(done.stdout)["asset_id"])
    server = Server(home)
    urls = {}
    for asset_id in ids:
        links = httpx.get(
            f"{server.base}/api/v1/assets/{asset_id}/playback", headers=server.auth("viewer")
        ).json()
        urls[asset_id] = links["hls_url"]
    yield {"server": server, "ids": ids, "urls": urls}
    server.stop()


def beacon(asset_id: str, playback: str, **extra: object) -> dict[str, object]:
    return {
        "asset_id": asset_id,
        "session_id": SESSION,
        "player": "hls.js",
        "playback": playback,
        "events": [
            {"type": "startup", "t": 0, "value": 420.5},
            {"type": "switch", "t": 900, "bitrate": 800000, "height": 360},
            {"type": "rebuffer", "t": 3000, "value": 250},
            {"type": "heartbeat", "t": 10000, "value": 9.6, "dropped_frames": 2},
        ],
        **extra,
    }


def post(site, body: object, **kw: object) -> httpx.Response:  # type: ignore[no-untyped-def]
    return httpx.post(f"{site['server'].base}/api/v1/beacons", **kw, json=body)  # type: ignore[arg-type]


def events_of(site, asset_id: str) -> list[dict[str, object]]:  # type: ignore[no-untyped-def]
    return [e for e in site["server"].catalog.beacon_events() if e["asset_id"] == asset_id]


def stored(site, asset_id: str) -> list[dict[str, object]]:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + 10
    while True:
        found = events_of(site, asset_id)
        if found or time.monotonic() > deadline:
            return found
        time.sleep(0.2)


def test_a_signed_beacon_is_stored_event_by_event(site) -> None:  # type: ignore[no-untyped-def]
    asset_id = site["ids"][0]
    response = post(site, beacon(asset_id, site["urls"][asset_id]))
    assert response.status_code == 202, response.text
    events = stored(site, asset_id)
    assert [e["type"] for e in events] == ["startup", "switch", "rebuffer", "heartbeat"]
    assert events[0]["value"] == 420.5 and events[1]["height"] == 360
    assert events[3]["dropped_frames"] == 2 and events[0]["session_id"] == SESSION


def test_text_plain_as_send_beacon_sends_it(site) -> None:  # type: ignore[no-untyped-def]
    asset_id = site["ids"][0]
    body = json.dumps(beacon(asset_id, site["urls"][asset_id]))
    response = httpx.post(
        f"{site['server'].base}/api/v1/beacons",
        content=body,
        headers={"Content-Type": "text/plain;charset=UTF-8"},
    )
    assert response.status_code == 202, response.text


def test_a_beacon_for_another_asset_is_refused(site) -> None:  # type: ignore[no-untyped-def]
    mine, other = site["ids"]
    forged = post(site, beacon(other, site["urls"][mine]))
    assert forged.status_code == 403
    assert "wrong-resource" in forged.json()["detail"]
    unsigned = post(site, beacon(other, "https://example.com/vod/x/master.m3u8"))
    assert unsigned.status_code == 403
    tampered = site["urls"][mine].replace("Signature=", "Signature=AAAA")
    assert post(site, beacon(mine, tampered)).status_code == 403
    # a signed beacon after them: the writer stores in order, so once it is in, whatever came
    # before it is in too (no fixed wait for something that must not appear)
    later = post(site, beacon(mine, site["urls"][mine], session_id=LATER))
    assert later.status_code == 202, later.text
    deadline = time.monotonic() + 10
    while not any(e["session_id"] == LATER for e in events_of(site, mine)):
        assert time.monotonic() < deadline, "the signed beacon was never stored"
        time.sleep(0.2)
    assert events_of(site, other) == []


@pytest.mark.parametrize(
    "change",
    [
        {"events": []},
        {"events": [{"type": "teleport", "t": 0}]},
        {"events": [{"type": "startup", "t": -5}]},
        {"session_id": "x"},
        {"player": "flash"},
        {"surprise": 1},
    ],
)
def test_malformed_beacons_get_400(site, change: dict[str, object]) -> None:  # type: ignore[no-untyped-def]
    asset_id = site["ids"][0]
    response = post(site, {**beacon(asset_id, site["urls"][asset_id]), **change})
    assert response.status_code == 400
    assert response.json()["detail"].startswith("beacon.invalid")


def test_not_json_and_oversized(site) -> None:  # type: ignore[no-untyped-def]
    url = f"{site['server'].base}/api/v1/beacons"
    assert httpx.post(url, content=b"{not json").status_code == 400
    big = b"{" + b" " * (MAX_BEACON_BYTES + 10) + b"}"
    too_big = httpx.post(url, content=big)
    assert too_big.status_code == 400 and "at most" in too_big.json()["detail"]
    metrics = httpx.get(f"{site['server'].base}/metrics", headers=site["server"].auth("admin")).text
    assert 'primevod_beacons_total{result="malformed"}' in metrics
    assert 'primevod_beacons_total{result="oversized"}' in metrics


def test_beacons_have_a_budget_per_address(tmp_path) -> None:  # type: ignore[no-untyped-def]
    server = Server(tmp_path, PRIMEVOD_RATE_LIMIT_BEACONS="3/minute")
    try:
        url = f"{server.base}/api/v1/beacons"
        statuses = [httpx.post(url, content=b"{}").status_code for _ in range(5)]
        assert statuses[:3] == [400, 400, 400] and statuses[3:] == [429, 429]
        refused = httpx.post(url, content=b"{}")
        assert int(refused.headers["Retry-After"]) >= 1
    finally:
        server.stop()
