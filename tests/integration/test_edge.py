"""The signed delivery edge over a real server: signatures (URL, cookies, botocore's signer),
every refusal, byte ranges, 304, gzip, HEAD, CORS, path escapes, playback links."""

from __future__ import annotations

import datetime as dt
import gzip
import json
import os
import subprocess
import sys
import time

import httpx
import pytest
from botocore.signers import CloudFrontSigner
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding

from primevod.adapters.signing.key_store import KeyStore
from primevod.core.signing import Signer


@pytest.fixture(scope="module")
def edge(tmp_path_factory, clip):
    from support.server import Server

    home = tmp_path_factory.mktemp("edgehome")
    env = {**os.environ, "PRIMEVOD_HOME": str(home), "PRIMEVOD_PRESET": "ultrafast"}
    done = subprocess.run(
        [sys.executable, "-m", "primevod.cli.main", "process", str(clip("small.mp4")), "--json"],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
    )
    asset_id = json.loads(done.stdout)["asset_id"]
    server = Server(home)
    key_id, private = KeyStore(home / "signing-keys").signing_key()
    yield {
        "server": server,
        "asset": asset_id,
        "signer": Signer(key_id, private),
        "private": private,
        "base": f"{server.base}/vod/{asset_id}/",
    }
    server.stop()


def signed(edge, path: str, seconds: int = 60, **kw) -> str:
    return edge["signer"].signed_url(edge["base"] + path, int(time.time()) + seconds, **kw)


def test_refusals_carry_a_reason(edge) -> None:
    base, signer = edge["base"], edge["signer"]
    cases = {
        "missing": base + "master.m3u8",
        "expired": signed(edge, "master.m3u8", seconds=-5),
        "tampered": signed(edge, "master.m3u8").replace("master.m3u8", "manifest.mpd"),
        "wrong-resource": signer.signed_url(
            base + "master.m3u8",
            int(time.time()) + 60,
            resource=base.replace(edge["asset"], "x") + "*",
        ),
        "wrong-ip": signed(edge, "master.m3u8", ip="203.0.113.7"),
        "not-yet-valid": signer.signed_url(
            base + "master.m3u8", int(time.time()) + 60, starts=int(time.time()) + 30
        ),
    }
    for reason, url in cases.items():
        r = httpx.get(url)
        assert r.status_code == 403, reason
        assert r.headers["X-PrimeVOD-Reason"] == reason


def test_signed_url_serves_with_the_right_headers(edge) -> None:
    r = httpx.get(signed(edge, "master.m3u8"), headers={"Accept-Encoding": "identity"})
    assert r.status_code == 200 and r.text.startswith("#EXTM3U")
    assert r.headers["content-type"] == "application/vnd.apple.mpegurl"
    assert "max-age=5" in r.headers["cache-control"]
    mpd = httpx.get(signed(edge, "manifest.mpd"))
    assert mpd.headers["content-type"] == "application/dash+xml"
    seg = httpx.get(signed(edge, "chunk-0-00001.m4s"))
    assert seg.status_code == 200 and seg.headers["content-type"] == "video/iso.segment"
    assert "immutable" in seg.headers["cache-control"]
    poster = httpx.get(signed(edge, "thumbs/poster.jpg"))
    assert poster.headers["content-type"] == "image/jpeg" and poster.content[:2] == b"\xff\xd8"
    vtt = httpx.get(signed(edge, "thumbs/storyboard.vtt"))
    assert vtt.headers["content-type"].startswith("text/vtt") and "WEBVTT" in vtt.text


def test_ranges_etag_head_gzip(edge) -> None:
    url = signed(edge, "chunk-0-00001.m4s")
    whole = httpx.get(url).content
    part = httpx.get(url, headers={"Range": "bytes=10-99"})
    assert part.status_code == 206 and part.content == whole[10:100]
    assert part.headers["content-range"] == f"bytes 10-99/{len(whole)}"
    tail = httpx.get(url, headers={"Range": "bytes=-20"})
    assert tail.status_code == 206 and tail.content == whole[-20:]
    assert httpx.get(url, headers={"Range": f"bytes={len(whole)}-"}).status_code == 416
    etag = httpx.get(url).headers["etag"]
    assert httpx.get(url, headers={"If-None-Match": etag}).status_code == 304
    head = httpx.head(url)
    assert head.status_code == 200 and head.content == b""
    assert int(head.headers["content-length"]) == len(whole)
    zipped = httpx.get(signed(edge, "master.m3u8"), headers={"Accept-Encoding": "gzip"})
    assert zipped.headers["content-encoding"] == "gzip" and "#EXTM3U" in zipped.text
    with httpx.stream(
        "GET", signed(edge, "master.m3u8"), headers={"Accept-Encoding": "gzip"}
    ) as raw:
        body = b"".join(raw.iter_raw())
    assert gzip.decompress(body).startswith(b"#EXTM3U")


def test_cookies_from_the_playback_api(edge) -> None:
    server = edge["server"]
    r = httpx.get(
        f"{server.base}/api/v1/assets/{edge['asset']}/playback", headers=server.auth("viewer")
    )
    assert r.status_code == 200, r.text
    links = r.json()
    assert links["hls_url"].startswith(edge["base"] + "master.m3u8?Policy=")
    assert links["poster_url"] and links["expires_at"] > time.time()
    cookies = {c.name: c.value for c in r.cookies.jar}
    assert {"CloudFront-Policy", "CloudFront-Signature", "CloudFront-Key-Pair-Id"} <= set(cookies)
    # a player fetches variant playlists and segments with the cookies alone
    media = httpx.get(edge["base"] + "media_0.m3u8", cookies=cookies)
    assert media.status_code == 200 and "#EXTINF" in media.text
    assert httpx.get(links["hls_url"]).status_code == 200
    other = httpx.get(f"{server.base}/vod/not-this-asset/master.m3u8", cookies=cookies)
    assert other.status_code == 403 and other.headers["X-PrimeVOD-Reason"] == "wrong-resource"
    assert httpx.get(f"{server.base}/api/v1/assets/{edge['asset']}/playback").status_code == 401


def test_botocore_signed_urls_are_accepted(edge) -> None:
    def rsa_signer(message: bytes) -> bytes:
        return edge["private"].sign(message, padding.PKCS1v15(), hashes.SHA1())

    boto = CloudFrontSigner(edge["signer"].key_pair_id, rsa_signer)
    expires = dt.datetime.now(dt.UTC) + dt.timedelta(minutes=5)
    url = boto.generate_presigned_url(edge["base"] + "manifest.mpd", date_less_than=expires)
    assert httpx.get(url).status_code == 200
    policy = boto.build_policy(edge["base"] + "*", expires)
    url = boto.generate_presigned_url(edge["base"] + "media_1.m3u8", policy=policy)
    assert httpx.get(url).status_code == 200


def test_nothing_outside_the_package(edge) -> None:
    server = edge["server"]
    for path in ("../../../source/uploads/x.mp4", "..%2F..%2Fcatalog.db", "%2e%2e/x", "nope.m4s"):
        url = signed(edge, path)
        r = httpx.get(url)
        assert r.status_code in (403, 404), path
    # a signature for the whole site does not reach the source bucket either
    anything = edge["signer"].signed_url(
        f"{server.base}/vod/x/y", int(time.time()) + 60, resource=f"{server.base}/*"
    )
    assert httpx.get(anything.replace("/vod/x/y", "/vod/x/../../catalog.db")).status_code in (
        403,
        404,
    )


def test_cors_preflight(edge) -> None:
    r = httpx.options(
        edge["base"] + "chunk-0-00001.m4s",
        headers={
            "Origin": "https://player.example",
            "Access-Control-Request-Method": "GET",
            "Access-Control-Request-Headers": "range",
        },
    )
    assert r.status_code == 200
    assert r.headers["access-control-allow-origin"] in ("*", "https://player.example")


def test_invalidate_changes_etags_and_access_log(edge) -> None:
    server = edge["server"]
    url = signed(edge, "master.m3u8")
    before = httpx.get(url).headers["etag"]
    r = httpx.post(
        f"{server.base}/api/v1/assets/{edge['asset']}/invalidate", headers=server.auth("admin")
    )
    assert r.status_code == 200 and r.json()["delivery_version"] == 1
    after = httpx.get(url)
    assert after.headers["etag"] != before
    assert httpx.get(url, headers={"If-None-Match": before}).status_code == 200
    log = (server.home / "logs" / "edge-access.log").read_text().splitlines()
    entries = [json.loads(line) for line in log]
    assert {"status", "bytes", "ms", "cache"} <= set(entries[-1])
    assert any(e["status"] == 403 and e["reason"] == "expired" for e in entries)


def test_the_content_cache_serves_the_second_viewer_and_ignores_the_canary(edge) -> None:
    """A segment's first request reaches the origin store (MISS), the next ones come from the
    edge's memory (HIT), byte ranges included; the canary's requests are logged but left out
    of the hit ratio."""
    server = edge["server"]
    playlist = httpx.get(signed(edge, "master.m3u8")).text
    variant = next(line for line in playlist.splitlines() if line.endswith(".m3u8"))
    media = httpx.get(signed(edge, variant)).text
    segment = next(line for line in media.splitlines() if line.endswith(".m4s"))
    url = signed(edge, segment)
    first = httpx.get(url)
    second = httpx.get(url)
    part = httpx.get(url, headers={"Range": "bytes=10-19"})
    synthetic = httpx.get(url, headers={"User-Agent": "primevod-canary"})
    assert first.status_code == second.status_code == synthetic.status_code == 200
    assert first.content == second.content == synthetic.content
    assert part.status_code == 206 and part.content == first.content[10:20]
    log = (server.home / "logs" / "edge-access.log").read_text().splitlines()
    mine = [json.loads(line) for line in log if segment in line]
    assert [e["cache"] for e in mine[-4:]] == ["MISS", "HIT", "HIT", "HIT"]

    def hits() -> float:
        text = httpx.get(f"{server.base}/metrics").text
        return sum(
            float(line.rsplit(" ", 1)[1])
            for line in text.splitlines()
            if line.startswith('primevod_edge_cache_total{result="hit"}')
        )

    entries = [
        json.loads(line)
        for line in (server.home / "logs" / "edge-access.log").read_text().splitlines()
    ]
    viewers = sum(1 for e in entries if e["cache"] == "HIT" and e["agent"] != "primevod-canary")
    assert any(e["cache"] == "HIT" and e["agent"] == "primevod-canary" for e in entries)
    # /metrics shows what the server has flushed to the store (every 10 s)
    deadline = time.time() + 30
    while time.time() < deadline and hits() < viewers:
        time.sleep(0.5)
    assert hits() == viewers  # the canary's hit is not among them


def test_the_playback_api_signs_for_a_cdn_layout_as_cloudfront_would(edge) -> None:
    """With PRIMEVOD_PLAYBACK_BASE_URL and PRIMEVOD_PLAYBACK_KEY_ID (the AWS stack's
    distribution and CloudFront's id of the exported key), the playback API's URL is the
    object key under the distribution, byte for byte what botocore's CloudFrontSigner
    makes of the same policy, and the verifier takes it under that key id."""
    from support.server import Server

    from primevod.core.signing import Verifier, build_policy, split_signed_url

    cdn = "https://d2example.cloudfront.net"
    server = Server(
        edge["server"].home, PRIMEVOD_PLAYBACK_BASE_URL=cdn, PRIMEVOD_PLAYBACK_KEY_ID="K3CLOUDFRONT"
    )
    try:
        r = httpx.get(
            f"{server.base}/api/v1/assets/{edge['asset']}/playback",
            headers=server.auth("viewer"),
        )
    finally:
        server.stop()
    assert r.status_code == 200, r.text
    body = r.json()
    folder = f"{cdn}/assets/{edge['asset']}/"
    assert body["hls_url"].startswith(folder) and "Key-Pair-Id=K3CLOUDFRONT" in body["hls_url"]
    url, params = split_signed_url(body["hls_url"])
    prefix = url[len(cdn) :].rsplit("/", 1)[0] + "/"  # /assets/<id>/<n>/
    policy = build_policy(f"{cdn}{prefix}*", body["expires_at"])

    def rsa_signer(message: bytes) -> bytes:
        return edge["private"].sign(message, padding.PKCS1v15(), hashes.SHA1())

    expected = CloudFrontSigner("K3CLOUDFRONT", rsa_signer).generate_presigned_url(
        url, policy=policy
    )
    assert body["hls_url"] == expected
    Verifier({"K3CLOUDFRONT": edge["private"].public_key()}).check(
        url, params=params, now=time.time()
    )
    assert f"Path={prefix}" in r.headers["set-cookie"]
