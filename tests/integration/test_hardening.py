"""Hostile-input hardening over a real server: rate limits per address, per key and for the
upload routes (429 with Retry-After), body size limits (413, declared and streamed), the
security headers, and HTTPS with --tls-cert/--tls-key on `serve` and `edge`."""

from __future__ import annotations

import datetime
import ipaddress
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

PART = 64 * 1024  # the limited server's part size: its part PUT limit


def retry_after(response: httpx.Response) -> int:
    assert response.status_code == 429, response.text
    seconds = int(response.headers["Retry-After"])
    assert 1 <= seconds <= 60
    assert "too many requests" in response.json()["detail"]
    return seconds


@pytest.fixture(scope="module")
def by_address(tmp_path_factory) -> Iterator:
    from support.server import Server

    server = Server(tmp_path_factory.mktemp("ratehome"), PRIMEVOD_RATE_LIMIT_PER_IP="5/minute")
    yield server
    server.stop()


@pytest.fixture(scope="module")
def limited(tmp_path_factory) -> Iterator:
    """Per-key and upload budgets."""
    from support.server import Server

    server = Server(
        tmp_path_factory.mktemp("limithome"),
        PRIMEVOD_RATE_LIMIT_PER_KEY="3/minute",
        PRIMEVOD_RATE_LIMIT_UPLOADS="4/minute",
    )
    yield server
    server.stop()


@pytest.fixture(scope="module")
def bodies(tmp_path_factory) -> Iterator:
    """Small body limits (and no rate limits)."""
    from support.server import Server

    server = Server(
        tmp_path_factory.mktemp("bodyhome"),
        PRIMEVOD_BODY_LIMIT_BYTES="1000",
        PRIMEVOD_UPLOAD_MIN_PART_SIZE=str(PART),
        PRIMEVOD_UPLOAD_PART_SIZE=str(PART),
        PRIMEVOD_UPLOAD_MAX_BYTES=str(16 * PART),
    )
    yield server
    server.stop()


def test_rate_limit_per_address(by_address) -> None:
    url = f"{by_address.base}/api/v1/assets"
    answers = [httpx.get(url) for _ in range(5)]  # no key: still counted, by address
    assert [r.status_code for r in answers] == [401] * 5
    retry_after(httpx.get(url, headers=by_address.auth("admin")))
    assert httpx.get(f"{by_address.base}/healthz").status_code == 200  # probes never limited


def test_rate_limit_per_key_counts_only_authenticated_requests(limited) -> None:
    url = f"{limited.base}/api/v1/assets"
    key_id = limited.keys["viewer"].split("_")[1]
    forged = {"Authorization": f"Bearer pv_{key_id}_not-the-secret"}
    assert {httpx.get(url, headers=forged).status_code for _ in range(6)} == {401}
    ok = [httpx.get(url, headers=limited.auth("viewer")).status_code for _ in range(3)]
    assert ok == [200] * 3  # the forged requests spent none of the key's budget
    over = httpx.get(url, headers=limited.auth("viewer"))
    retry_after(over)
    assert f"key {key_id}" in over.json()["detail"]
    assert httpx.get(url, headers=limited.auth("admin")).status_code == 200  # its own budget


def test_upload_routes_have_their_own_budget(limited) -> None:
    url = f"{limited.base}/api/v1/uploads/config"
    codes = [httpx.get(url, headers=limited.auth("uploader")).status_code for _ in range(4)]
    assert codes == [200] * 4
    retry_after(httpx.get(url, headers=limited.auth("uploader")))
    assert httpx.get(f"{limited.base}/api/v1/assets", headers=limited.auth("uploader")).is_success


def test_body_limits(bodies) -> None:
    url = f"{bodies.base}/api/v1/subscriptions"
    big = {"url": "https://example.com/" + "a" * 2000}
    declared = httpx.post(url, json=big, headers=bodies.auth("admin"))
    assert declared.status_code == 413 and "1000 bytes" in declared.json()["detail"]

    def chunks() -> Iterator[bytes]:
        yield b'{"queue": "'
        for _ in range(20):
            yield b"x" * 100
        yield b'"}'

    streamed = httpx.post(url, content=chunks(), headers=bodies.auth("admin"))
    assert streamed.status_code == 413
    part = f"{bodies.base}/api/v1/uploads/u1/parts/1?key=k&expires=9999999999&sig=x"
    # a part PUT may be larger than a JSON body, up to the part size: this one reaches its
    # route (and is refused there for its signature)
    assert httpx.put(part, content=b"x" * 5000).status_code == 403
    assert httpx.put(part, content=b"x" * (PART + 1)).status_code == 413
    assert httpx.put(part, content=iter([b"x" * PART, b"y"])).status_code == 413


def test_security_headers(bodies) -> None:
    page = httpx.get(f"{bodies.base}/")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    csp = page.headers["Content-Security-Policy"]
    for directive in ("script-src 'self'", "worker-src 'self' blob:", "frame-ancestors 'self'"):
        assert directive in csp
    assert page.headers["X-Frame-Options"] == "SAMEORIGIN"
    api = httpx.get(f"{bodies.base}/api/v1/assets")
    for response in (page, api):
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert response.headers["Referrer-Policy"] == "no-referrer"
    assert "Content-Security-Policy" not in api.headers
    # the API docs load Swagger UI and ReDoc from this origin: the page policy, inline styles
    for docs in ("/docs", "/redoc"):
        docs_csp = httpx.get(f"{bodies.base}{docs}").headers["Content-Security-Policy"]
        assert "script-src 'self';" in docs_csp and "style-src 'self' 'unsafe-inline'" in docs_csp


def test_only_one_assets_embed_page_may_be_framed_by_any_site(bodies) -> None:
    framable = httpx.get(f"{bodies.base}/embed/00000000-0000-4000-8000-000000000000")
    assert "frame-ancestors *" in framable.headers["Content-Security-Policy"]
    assert "X-Frame-Options" not in framable.headers
    for path in ("/embed/xyz", "/embed/", "/embed/00000000-0000-4000-8000-000000000000/x"):
        page = httpx.get(f"{bodies.base}{path}")
        assert page.headers["content-type"].startswith("text/html"), path
        assert "frame-ancestors 'self'" in page.headers["Content-Security-Policy"], path
        assert page.headers["X-Frame-Options"] == "SAMEORIGIN", path


# -- TLS ------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def certificate(tmp_path_factory) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1 and its key (PEM files)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    folder = tmp_path_factory.mktemp("tls")
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = folder / "cert.pem", folder / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path


def test_serve_over_tls(tmp_path, certificate) -> None:
    from support.server import Server

    cert, key = certificate
    server = Server(
        tmp_path / "home", args=("--tls-cert", str(cert), "--tls-key", str(key)), ca=cert
    )
    try:
        assert server.base.startswith("https://")
        health = httpx.get(f"{server.base}/healthz", verify=server.verify)
        assert health.status_code == 200 and health.json()["status"] == "ok"
        with pytest.raises(httpx.HTTPError):  # plain HTTP to the TLS port gets no answer
            httpx.get(f"http://127.0.0.1:{server.port}/healthz", timeout=5)
        with pytest.raises(httpx.ConnectError):  # nor does a client that does not trust it
            httpx.get(f"{server.base}/healthz", timeout=5)
    finally:
        server.stop()


def test_edge_over_tls(tmp_path, certificate) -> None:
    import os
    import ssl

    from support.server import free_port

    cert, key = certificate
    port = free_port()
    env = {**os.environ, "PRIMEVOD_HOME": str(tmp_path / "home")}
    command = ["edge", "--port", str(port), "--tls-cert", str(cert), "--tls-key", str(key)]
    with open(tmp_path / "edge.log", "wb") as output:
        proc = subprocess.Popen(
            [sys.executable, "-m", "primevod.cli.main", *command],
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    trust = ssl.create_default_context(cafile=str(cert))
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                health = httpx.get(f"https://127.0.0.1:{port}/healthz", verify=trust, timeout=1)
                break
            except httpx.HTTPError:
                assert proc.poll() is None, (tmp_path / "edge.log").read_text()
                assert time.monotonic() < deadline, "the edge did not start"
                time.sleep(0.2)
        assert health.status_code == 200
        assert health.headers["X-Content-Type-Options"] == "nosniff"
    finally:
        proc.terminate()
        proc.wait(timeout=20)


@pytest.mark.parametrize(
    ("flags", "message"),
    [
        (["--tls-cert", "{cert}"], "give both --tls-cert and --tls-key"),
        (["--tls-key", "{key}"], "give both --tls-cert and --tls-key"),
        (["--tls-cert", "{missing}", "--tls-key", "{key}"], "cannot read"),
        (["--tls-cert", "{key}", "--tls-key", "{key}"], "not a PEM certificate and its key"),
    ],
)
def test_tls_flags_are_checked(tmp_path, certificate, flags, message) -> None:
    from support.cli import run_cli

    cert, key = certificate
    paths = {"cert": cert, "key": key, "missing": tmp_path / "nope.pem"}
    args = [flag.format(**paths) for flag in flags]
    for command in ("serve", "edge"):
        done = run_cli(tmp_path / "home", command, "--port", "1", *args, timeout=60)
        assert done.returncode == 2, done.stderr
        assert message in " ".join(done.stderr.split()), done.stderr
