"""Encrypted HLS end to end: `primevod process --encryption aes-128` (a single-pass and a
chunked encode) publishes an HLS-only package whose segments do not decode without the
key, whose key is nowhere in the destination bucket, and whose key route answers only a
request carrying that asset's playback signature; hls.js plays it in Chromium with the
playback cookies."""

from __future__ import annotations

import io
import json
import time
from pathlib import Path

import httpx
import pytest
from support.browser import needs_chromium, sign_in
from support.cli import run_cli
from support.server import Server

from primevod.adapters.media.hls_encryption import decrypt_segment
from primevod.core.content_keys import segment_keys
from primevod.core.hls import parse_media_playlist


def _process(home: Path, source: Path, *args: str, **env: str) -> dict:
    done = run_cli(home, "process", str(source), "--json", *args, **env)
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert result["status"] == "ready", result
    return result


@pytest.fixture(scope="module")
def site(tmp_path_factory, clip):
    home = tmp_path_factory.mktemp("enchome")
    source = clip("long9s.mp4")
    single = _process(home, source, "--encryption", "aes-128")
    chunked = _process(home, source, "--encryption", "aes-128", PRIMEVOD_CHUNK_SECONDS="3")
    clear = _process(home, clip("small.mp4"))
    server = Server(home)
    yield {"server": server, "single": single, "chunked": chunked, "clear": clear, "home": home}
    server.stop()


def _package(site, asset_id: str) -> Path:
    asset = site["server"].catalog.get_asset(asset_id)
    return site["home"] / "store" / "buckets" / "destination" / asset.output_prefix


def _key(site, asset_id: str) -> bytes:
    key = site["server"].catalog.content_key(asset_id)
    assert key is not None and len(key) == 16
    return key


def _playback(site, asset_id: str, client: httpx.Client | None = None) -> httpx.Response:
    server = site["server"]
    get = client.get if client is not None else httpx.get
    response = get(
        f"{server.base}/api/v1/assets/{asset_id}/playback", headers=server.auth("viewer")
    )
    assert response.status_code == 200, response.text
    return response


def _key_url(site, asset_id: str) -> str:
    return f"{site['server'].base}/api/v1/keys/{asset_id}"


def _video_frames(data: bytes) -> int:
    """Frames PyAV decodes from an init + media segment pair (0 when it cannot)."""
    import av
    import av.error

    try:
        with av.open(io.BytesIO(data), mode="r", format="mp4") as container:
            if not container.streams.video:
                return 0
            return sum(1 for _ in container.decode(video=0))
    except (av.error.FFmpegError, ValueError, IndexError):
        return 0


def test_packages_are_hls_only_with_keys_after_the_map(site) -> None:
    chunked = site["server"].catalog.get_asset(site["chunked"]["asset_id"])
    assert chunked.timings.get("chunks", 0) > 1  # the stitch path, not the single pass
    for which in ("single", "chunked"):
        asset_id = site[which]["asset_id"]
        assert site[which]["dash_path"] is None
        root = _package(site, asset_id)
        assert (root / "master.m3u8").is_file() and not list(root.glob("*.mpd"))
        playlists = sorted(root.glob("media_*.m3u8"))
        assert playlists
        for playlist in playlists:
            text = playlist.read_text()
            lines = text.splitlines()
            map_at = next(i for i, line in enumerate(lines) if line.startswith("#EXT-X-MAP"))
            keys = [i for i, line in enumerate(lines) if line.startswith("#EXT-X-KEY")]
            assert keys and min(keys) > map_at  # the init segment stays clear
            assert len(keys) == len(parse_media_playlist(text).segments)
            assert f'URI="/api/v1/keys/{asset_id}"' in lines[keys[0]]
    clear = _package(site, site["clear"]["asset_id"])
    assert (clear / "manifest.mpd").is_file()
    assert "#EXT-X-KEY" not in (clear / "media_0.m3u8").read_text()


def test_segments_do_not_decode_without_the_key(site) -> None:
    for which in ("single", "chunked"):
        asset_id = site[which]["asset_id"]
        root, key = _package(site, asset_id), _key(site, asset_id)
        text = (root / "media_0.m3u8").read_text()  # the lowest video rung
        init = (root / parse_media_playlist(text).map_uri).read_bytes()
        segments = segment_keys(text)
        assert len(segments) >= 2
        for segment in segments:
            assert segment.iv is not None
            stored = (root / segment.uri).read_bytes()
            assert _video_frames(init + stored) == 0, f"{which}: {segment.uri} decodes as is"
            clear = decrypt_segment(stored, key, segment.iv)
            assert _video_frames(init + clear) > 0, f"{which}: {segment.uri} after decryption"


def test_the_key_is_nowhere_in_the_destination_bucket(site) -> None:
    keys = [_key(site, site[which]["asset_id"]) for which in ("single", "chunked")]
    assert keys[0] != keys[1]  # one key per asset
    bucket = site["home"] / "store" / "buckets" / "destination"
    files = [p for p in bucket.rglob("*") if p.is_file()]
    assert files
    for path in files:
        data = path.read_bytes()
        for key in keys:
            assert key not in data and key.hex() not in data.decode("latin-1").lower(), path


def test_the_key_route_wants_this_assets_playback_signature(site) -> None:
    server = site["server"]
    single, chunked = site["single"]["asset_id"], site["chunked"]["asset_id"]
    # no cookie, no signature
    refused = httpx.get(_key_url(site, single))
    assert refused.status_code == 403
    assert refused.headers["x-primevod-reason"] == "missing"
    assert refused.headers["cache-control"] == "no-store"
    # an API key is no playback signature
    assert httpx.get(_key_url(site, single), headers=server.auth("admin")).status_code == 403

    # a browser-like client: the playback response's cookies reach the key route
    with httpx.Client() as browser:
        links = _playback(site, single, browser).json()
        got = browser.get(_key_url(site, single))
        assert got.status_code == 200, got.text
        assert got.content == _key(site, single)
        assert got.headers["content-type"] == "application/octet-stream"
        assert got.headers["cache-control"] == "no-store"
        paths = {c.path for c in browser.cookies.jar if c.name == "CloudFront-Signature"}
        assert paths == {f"/vod/{single}/", f"/api/v1/keys/{single}"}
        # those cookies are for this asset only
        other = browser.get(_key_url(site, chunked))
        assert other.status_code == 403 and other.headers["x-primevod-reason"] == "missing"

    # another asset's cookies, sent explicitly, are refused
    theirs = {c.name: c.value for c in _playback(site, chunked).cookies.jar}
    wrong = httpx.get(_key_url(site, single), cookies=theirs)
    assert wrong.status_code == 403 and wrong.headers["x-primevod-reason"] == "wrong-resource"

    # the signed key URL works without cookies, and only for its own asset
    assert links["key_url"].startswith(_key_url(site, single) + "?")
    assert httpx.get(links["key_url"]).content == _key(site, single)
    query = links["key_url"].split("?", 1)[1]
    assert httpx.get(f"{_key_url(site, chunked)}?{query}").status_code == 403
    assert _playback(site, site["clear"]["asset_id"]).json()["key_url"] is None


def test_an_expired_signature_is_refused(site) -> None:
    from primevod.adapters.signing.key_store import KeyStore
    from primevod.core.signing import Signer

    server, asset_id = site["server"], site["single"]["asset_id"]
    key_id, private = KeyStore(server.home / "signing-keys").signing_key()
    resource = f"{server.base}/vod/{asset_id}/*"
    stale = Signer(key_id, private).signed_cookies(resource, int(time.time()) - 60)
    refused = httpx.get(_key_url(site, asset_id), cookies=stale)
    assert refused.status_code == 403 and refused.headers["x-primevod-reason"] == "expired"


def test_unknown_encryption_is_refused(site, clip) -> None:
    done = run_cli(site["home"], "process", str(clip("small.mp4")), "--encryption", "rot13")
    assert done.returncode == 2 and "unknown encryption" in done.stderr
    server = site["server"]
    body = {"filename": "a.mp4", "content_type": "video/mp4", "size": 1000}
    init = f"{server.base}/api/v1/uploads/init"
    bad = httpx.post(init, json={**body, "encryption": "rot13"}, headers=server.auth("uploader"))
    assert bad.status_code == 400 and "unknown encryption" in bad.text
    good = httpx.post(init, json={**body, "encryption": "AES-128"}, headers=server.auth("uploader"))
    assert good.status_code == 201, good.text
    session = server.catalog.get_upload(good.json()["upload_id"])
    assert session.metadata["encryption"] == "aes-128"


@needs_chromium
def test_hls_js_plays_the_encrypted_asset_in_chromium(site, browser) -> None:
    server, asset_id = site["server"], site["single"]["asset_id"]
    context = browser.new_context()
    page = context.new_page()
    key_statuses: list[int] = []
    page.on(
        "response",
        lambda r: key_statuses.append(r.status) if "/api/v1/keys/" in r.url else None,
    )
    sign_in(context, server, "viewer")
    page.goto(f"{server.base}/watch/{asset_id}")
    page.wait_for_selector("[data-testid=level]", timeout=30_000)
    video = "document.querySelector('[data-testid=video]').currentTime"
    deadline = time.monotonic() + 45
    while float(page.evaluate(video)) <= 1.0:
        assert time.monotonic() < deadline, f"stuck at {page.evaluate(video)} s"
        assert not page.query_selector("[data-testid=player-problem]"), page.inner_text(
            "[data-testid=player-problem]"
        )
        page.wait_for_timeout(250)
    assert not page.query_selector("[data-testid=player-problem]")
    assert key_statuses and set(key_statuses) == {200}  # hls.js fetched the key
    context.close()


def test_transcode_keeps_the_key_beside_the_package(tmp_path, clip) -> None:
    out = tmp_path / "pkg"
    args = ("transcode", str(clip("small.mp4")), str(out), "--encryption", "aes-128", "--json")
    done = run_cli(tmp_path / "home", *args)
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    key_file = tmp_path / "pkg.key"
    assert result["manifest"] is None and result["key_file"] == str(key_file)
    assert key_file.stat().st_mode & 0o777 == 0o600
    key = key_file.read_bytes()
    assert len(key) == 16 and not list(out.glob("*.mpd"))
    text = (out / "media_0.m3u8").read_text()
    assert '#EXT-X-KEY:METHOD=AES-128,URI="../pkg.key",IV=0x' in text
    assert all(key not in p.read_bytes() for p in out.rglob("*") if p.is_file())
    # a re-encode keeps the key; --key-uri names where players fetch it
    again = run_cli(tmp_path / "home", *args, "--overwrite", "--key-uri", "https://k.example/k1")
    assert again.returncode == 0, again.stderr
    assert key_file.read_bytes() == key
    assert 'URI="https://k.example/k1"' in (out / "media_0.m3u8").read_text()
    bad = run_cli(
        tmp_path / "home",
        "transcode",
        str(clip("small.mp4")),
        str(tmp_path / "x"),
        "--encryption",
        "des",
    )
    assert bad.returncode == 2 and "unknown encryption" in bad.stderr


def test_the_validator_checks_an_encrypted_package_as_hls_only(site) -> None:
    from primevod.adapters.media.package_validator import validate_package

    report = validate_package(_package(site, site["single"]["asset_id"]), manifest=None)
    assert report.passed, report.failures
    assert any(r.rule == "segment.encrypted" for r in report.results)
    assert not any(r.rule.startswith("mpd.") for r in report.results)
