"""The synthetic HLS canary over real HTTP: passes on real output, fails with the matching rule
on deliberately broken packages, never crashes on an unreachable host, and checks a package
behind the signed edge with signed cookies."""

from __future__ import annotations

import contextlib
import functools
import json
import os
import re
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from typer.testing import CliRunner

from primevod.adapters.media.ffmpeg_binary import ffmpeg_exe
from primevod.adapters.media.ffmpeg_command import EncodeOptions
from primevod.adapters.media.http_fetcher import HttpError, HttpFetcher
from primevod.adapters.media.transcoder import MediaEngine
from primevod.cli.main import app
from primevod.core.policies import get_policy
from primevod.core.signing import Signer
from primevod.pipeline.canary import package_resource, run_canary

runner = CliRunner()


class _Handler(SimpleHTTPRequestHandler):
    """Static files, plus: the first request for a path under /flaky/ answers 503, /moved/X
    redirects to /X, and /needs-cookie/ answers 403 without a CloudFront-Policy cookie."""

    seen: set[str] = set()  # noqa: RUF012 - shared by the server's threads on purpose
    lock = threading.Lock()

    def log_message(self, format: str, *args: object) -> None:  # quiet
        pass

    def _special(self) -> bool:
        if self.path.startswith("/moved/"):
            self.send_response(302)
            self.send_header("Location", self.path[len("/moved") :])
            self.send_header("Content-Length", "0")
            self.end_headers()
            return True
        if self.path.startswith("/needs-cookie/") and "CloudFront-Policy=" not in (
            self.headers.get("Cookie") or ""
        ):
            self.send_error(403)
            return True
        if not self.path.startswith("/flaky/"):
            return False
        with self.lock:
            first = self.path not in self.seen
            self.seen.add(self.path)
        if first:
            self.send_error(503)
        return first

    def do_GET(self) -> None:
        if not self._special():
            super().do_GET()

    def do_HEAD(self) -> None:
        if not self._special():
            super().do_HEAD()


@pytest.fixture(scope="module")
def package(clip, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("canary") / "pkg"
    MediaEngine(EncodeOptions(preset="ultrafast")).transcode(
        clip("long9s.mp4"), out, get_policy("default"), segment_seconds=2
    )
    return out


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Iterator[tuple[Path, str]]:
    """A threaded static HTTP server over a folder: (folder, base URL)."""
    root = tmp_path_factory.mktemp("site")
    server = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_Handler, directory=str(root)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield root, f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


@pytest.fixture
def served(package, site, request) -> tuple[Path, str]:
    """A fresh copy of the real package on the server: (its folder, its master URL)."""
    root, base = site
    name = re.sub(r"\W+", "-", request.node.name)
    shutil.copytree(package, root / name)
    return root / name, f"{base}/{name}/master.m3u8"


def failed(result) -> set[str]:
    return {f.rule for f in result.failed}


def edit(path: Path, pattern: str, replacement, count: int = 1) -> None:
    text = path.read_text()
    new = re.sub(pattern, replacement, text, count=count)
    assert new != text, pattern
    path.write_text(new)


def test_healthy_package_passes_via_the_cli(served) -> None:
    _, url = served
    done = subprocess.run(
        [sys.executable, "-m", "primevod.cli.main", "canary", url, "--json"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    result = json.loads(done.stdout)
    assert result["passed"] is True and result["failed"] == [] and result["error"] is None
    assert result["url"] == url and result["checked"] > 10
    assert result["requests"] == len(result["request_log"]) and result["bytes"] > 0
    assert result["started_at"].endswith("Z") or "+00:00" in result["started_at"]


def test_healthy_checks_every_rule_but_downloads_a_sample(served) -> None:
    folder, url = served
    result = run_canary(url, sample_segments=2)
    assert result.passed, result.failed
    gets = [r.url for r in result.request_log if r.method == "GET" and r.url.endswith(".m4s")]
    heads = [r.url for r in result.request_log if r.method == "HEAD"]
    media_segments = [p for p in folder.glob("chunk-*.m4s")]
    assert len(heads) == len(media_segments)  # every segment sized (reachability, bitrates)
    inits = [u for u in gets if "/init-" in u]
    playlists = len(list(folder.glob("media_*.m3u8")))
    assert len(gets) - len(inits) <= 2 * playlists  # but only a sample downloaded
    assert all(r.status == 200 for r in result.request_log)


def test_missing_segment(served) -> None:
    folder, url = served
    (folder / "chunk-0-00002.m4s").unlink()
    result = run_canary(url)
    assert not result.passed
    bad = [f for f in result.failed if f.rule == "segment.reachable"]
    assert bad and "chunk-0-00002.m4s" in bad[0].message and "404" in bad[0].message


def test_lying_bandwidth(served) -> None:
    folder, url = served
    edit(
        folder / "master.m3u8",
        r"BANDWIDTH=(\d+),AVERAGE",
        lambda m: f"BANDWIDTH={int(m.group(1)) * 10},AVERAGE",
    )
    result = run_canary(url)
    assert failed(result) == {"bitrate.peak"}


@pytest.mark.parametrize("factor", [3.0, 1 / 3])
def test_cli_fails_bandwidth_off_in_either_direction(served, factor: float) -> None:
    """Every variant's BANDWIDTH multiplied by 3, or divided by 3: exit 1, and each variant
    is named with the rule it broke (Apple: peak within 10 % of BANDWIDTH, both ways)."""
    folder, url = served
    edit(
        folder / "master.m3u8",
        r"(?<![-\w])BANDWIDTH=(\d+)",
        lambda m: f"BANDWIDTH={round(int(m.group(1)) * factor)}",
        count=0,
    )
    variants = re.findall(r"^media_\d+\.m3u8$", (folder / "master.m3u8").read_text(), re.M)
    done = runner.invoke(app, ["canary", url, "--segments", "1"])
    assert done.exit_code == 1, done.output
    for playlist in variants:
        assert f"FAIL bitrate.peak {playlist}: BANDWIDTH=" in done.output, done.output
    word = "overstates" if factor > 1 else "understates"
    assert word in done.output and "UNHEALTHY" in done.output


def test_missing_codecs(served) -> None:
    folder, url = served
    edit(folder / "master.m3u8", r'CODECS="[^"]*",', "")
    result = run_canary(url)
    attrs = [f for f in result.failed if f.rule == "variant.attributes"]
    assert attrs and "CODECS" in attrs[0].message


def test_unhealthy_cli_names_each_failed_rule(served) -> None:
    folder, url = served
    (folder / "media_1.m3u8").unlink()
    done = runner.invoke(app, ["canary", url, "--segments", "1"])
    assert done.exit_code == 1, done.output
    assert "FAIL playlist.reachable media_1.m3u8: cannot read: HTTP 404" in done.output
    assert "UNHEALTHY" in done.output


def test_segment_not_starting_with_a_keyframe(clip, site) -> None:
    """HLS cut by time, not at keyframes (10 s GOP, 1 s segments)."""
    root, base = site
    out = root / "badkey"
    out.mkdir()
    subprocess.run(
        [
            ffmpeg_exe(),
            "-v",
            "error",
            "-y",
            "-i",
            str(clip("long9s.mp4")),
            "-an",
            "-c:v",
            "libx264",
            "-preset",
            "ultrafast",
            "-g",
            "250",
            "-sc_threshold",
            "0",
            "-f",
            "hls",
            "-hls_time",
            "1",
            "-hls_segment_type",
            "fmp4",
            "-hls_flags",
            "split_by_time",
            "-hls_playlist_type",
            "vod",
            str(out / "v.m3u8"),
        ],
        check=True,
    )
    (out / "master.m3u8").write_text(
        "#EXTM3U\n#EXT-X-VERSION:7\n#EXT-X-STREAM-INF:BANDWIDTH=1000000,"
        'AVERAGE-BANDWIDTH=900000,CODECS="avc1.42c00d",RESOLUTION=320x180,FRAME-RATE=25\n'
        "v.m3u8\n"
    )
    result = run_canary(f"{base}/badkey/master.m3u8")  # samples the first and last segment
    bad = [f for f in result.failed if f.rule == "segment.keyframe"]
    assert bad and "not starting with a keyframe" in bad[0].message


def test_unreachable_host_fails_without_a_traceback() -> None:
    from support.server import free_port

    url = f"http://127.0.0.1:{free_port()}/vod/x/master.m3u8"
    result = run_canary(url, timeout=2, retries=1)
    assert not result.passed and failed(result) == {"master.reachable"}
    assert "no answer: ConnectError" in result.failed[0].message
    assert result.request_log[0].attempts == 2 and result.request_log[0].status is None
    done = runner.invoke(app, ["canary", url, "--timeout", "2"])
    assert done.exit_code == 1 and "Traceback" not in done.output
    assert "FAIL master.reachable" in done.output


def test_missing_master_and_bad_usage(site) -> None:
    _, base = site
    result = run_canary(f"{base}/nothing/master.m3u8")
    assert failed(result) == {"master.reachable"} and "HTTP 404" in result.failed[0].message
    for args in (
        ["canary", "ftp://host/master.m3u8"],
        ["canary", "master.m3u8"],
        ["canary", f"{base}/x.m3u8", "--segments", "-1"],
        ["canary", f"{base}/x.m3u8", "--key-file", "k.pem"],
        ["canary", f"{base}/x.m3u8", "--timeout", "0"],
    ):
        done = runner.invoke(app, args)
        assert done.exit_code == 2, (args, done.output)
    assert not run_canary("file:///etc/passwd").passed


def test_fetcher_retries_5xx_and_raises_os_errors(site) -> None:
    root, base = site
    (root / "flaky").mkdir()
    (root / "flaky" / "a.txt").write_bytes(b"hello")
    with HttpFetcher(backoff=0.01) as fetcher:
        assert fetcher.read(f"{base}/flaky/a.txt") == b"hello"  # 503 first, then 200
        assert fetcher.size(f"{base}/flaky/a.txt") == 5
        with pytest.raises(OSError) as info:
            fetcher.read(f"{base}/flaky/none.txt")
        assert isinstance(info.value, HttpError) and info.value.status == 404
        with pytest.raises(OSError):
            fetcher.read("file:///etc/passwd")
    first = fetcher.records[0]
    assert (first.status, first.attempts) == (200, 2) and first.bytes > 5  # 503 body too
    spent = HttpFetcher(budget=0)
    time.sleep(0.01)
    with pytest.raises(OSError, match="budget is spent"):
        spent.read(f"{base}/flaky/a.txt")
    spent.close()


def test_signing_goes_only_to_the_masters_origin(site) -> None:
    _, base = site
    fetcher = HttpFetcher(cookies={"CloudFront-Policy": "p"}, auth_origin=f"{base}/a/master.m3u8")
    sent: list[str | None] = []
    fetcher.client.event_hooks["request"] = [lambda r: sent.append(r.headers.get("cookie"))]
    for url in (f"{base}/x", "http://localhost:1/x"):
        with contextlib.suppress(OSError):
            fetcher.read(url)
    fetcher.close()
    assert sent[0] == "CloudFront-Policy=p" and set(sent[1:]) == {None}

    root, _ = site
    (root / "needs-cookie").mkdir()
    (root / "needs-cookie" / "a.txt").write_bytes(b"signed")
    moved = f"{base}/moved/needs-cookie/a.txt"
    with HttpFetcher(cookies={"CloudFront-Policy": "p"}, auth_origin=base + "/") as fetcher:
        assert fetcher.read(moved) == b"signed"  # the cookie survives a same-origin redirect
        assert fetcher.size(moved) == 6
    with HttpFetcher() as fetcher, pytest.raises(HttpError, match="HTTP 403"):
        fetcher.read(moved)
    assert package_resource(f"{base}/vod/A/master.m3u8?x=1") == f"{base}/vod/A/*"


@pytest.fixture(scope="module")
def edge(tmp_path_factory, clip):
    from support.server import Server

    home = tmp_path_factory.mktemp("canaryhome")
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
    yield {"home": home, "env": env, "url": f"{server.base}/vod/{asset_id}/master.m3u8"}
    server.stop()


def test_signed_edge(edge) -> None:
    from primevod.adapters.signing.key_store import KeyStore

    done = subprocess.run(
        [sys.executable, "-m", "primevod.cli.main", "canary", edge["url"], "--sign"],
        env=edge["env"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.startswith("healthy:")

    unsigned = run_canary(edge["url"])
    assert not unsigned.passed and failed(unsigned) == {"master.reachable"}
    assert "HTTP 403" in unsigned.failed[0].message
    assert "reason: missing" in unsigned.failed[0].message

    key_id, private = KeyStore(edge["home"] / "signing-keys").signing_key()
    signed = run_canary(edge["url"], signer=Signer(key_id, private), sample_segments=0)
    assert signed.passed, signed.failed
    # a key the edge does not know: refused, and the result says why
    done = runner.invoke(
        app,
        [
            "canary",
            edge["url"],
            "--json",
            "--key-file",
            str(edge["home"] / "signing-keys" / f"{key_id}.pem"),
            "--key-pair-id",
            "K00000000000000",
        ],
    )
    assert done.exit_code == 1
    assert "unknown-key" in json.loads(done.output)["failed"][0]["message"]
    # a signed URL with a wildcard custom policy works too (parameters sent to every request)
    url = Signer(key_id, private).signed_url(
        edge["url"], int(time.time()) + 60, resource=package_resource(edge["url"])
    )
    via_query = run_canary(url)
    assert via_query.passed and via_query.url == edge["url"]
    assert all("Signature" not in r.url for r in via_query.request_log)
