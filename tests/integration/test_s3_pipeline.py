"""The same pipeline on an S3 store, on moto's S3 server and on a real S3-compatible server
(OpenStack Swift's S3 API), both on loopback: source downloaded for the encode, package
uploaded to the destination bucket, catalog pointing at it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from typing import Any

import boto3
import pytest
from support.swift_s3 import swift_s3  # noqa: F401  (the session fixture)


@dataclass(frozen=True)
class S3Server:
    endpoint_url: str
    access_key_id: str
    secret_access_key: str

    def env(self) -> dict[str, str]:
        return {
            "PRIMEVOD_STORE": "s3",
            "PRIMEVOD_S3_ENDPOINT_URL": self.endpoint_url,
            "PRIMEVOD_S3_ACCESS_KEY_ID": self.access_key_id,
            "PRIMEVOD_S3_SECRET_ACCESS_KEY": self.secret_access_key,
        }

    def client(self) -> Any:
        return boto3.client(
            "s3",
            endpoint_url=self.endpoint_url,
            aws_access_key_id=self.access_key_id,
            aws_secret_access_key=self.secret_access_key,
            region_name="us-east-1",
        )


@pytest.fixture(params=["moto", "swift"])
def s3_server(request) -> S3Server:
    if request.param == "moto":
        return S3Server(request.getfixturevalue("moto_url"), "test", "test")
    swift = request.getfixturevalue("swift_s3")
    return S3Server(swift.endpoint_url, swift.access_key_id, swift.secret_access_key)


def test_process_on_s3(clip, s3_server: S3Server, tmp_path) -> None:
    env = {
        **os.environ,
        "PRIMEVOD_HOME": str(tmp_path / "home"),
        **s3_server.env(),
        "PRIMEVOD_SOURCE_BUCKET": "s3-src",
        "PRIMEVOD_DESTINATION_BUCKET": "s3-dst",
        "PRIMEVOD_PRESET": "ultrafast",
    }
    proc = subprocess.run(
        [sys.executable, "-m", "primevod.cli.main", "process", str(clip("small.mp4")), "--json"],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)
    assert data["status"] == "ready"
    assert data["hls_path"] == f"s3://s3-dst/assets/{data['asset_id']}/1/master.m3u8"
    s3 = s3_server.client()
    keys = [o["Key"] for o in s3.list_objects_v2(Bucket="s3-dst")["Contents"]]
    prefix = f"assets/{data['asset_id']}/1/"
    assert f"{prefix}master.m3u8" in keys and f"{prefix}manifest.mpd" in keys
    assert any(k.endswith(".m4s") for k in keys) and f"{prefix}thumbs/poster.jpg" in keys
    head = s3.head_object(Bucket="s3-dst", Key=f"{prefix}master.m3u8")
    assert head["ContentType"] == "application/vnd.apple.mpegurl"
    sources = [o["Key"] for o in s3.list_objects_v2(Bucket="s3-src")["Contents"]]
    assert sources == [f"uploads/{data['asset_id']}/small.mp4"]
    # the work folder (with the downloaded source) is gone
    assert not (tmp_path / "home" / "work" / data["asset_id"]).exists()


def test_uploads_go_straight_to_s3(s3_server: S3Server, tmp_path, clip) -> None:
    """With the s3 store, signPart hands out real S3 presigned UploadPart URLs: the bytes go
    to the object store, not through the server."""
    import hashlib

    import httpx
    from support.server import Server

    s3_env = {
        **s3_server.env(),
        "PRIMEVOD_SOURCE_BUCKET": "up-src",
        "PRIMEVOD_DESTINATION_BUCKET": "up-dst",
    }
    server = Server(tmp_path / "home", **s3_env)
    try:
        data = clip("long9s.mp4").read_bytes()
        auth = server.auth("uploader")
        base = f"{server.base}/api/v1/uploads"
        session = httpx.post(
            f"{base}/init",
            headers=auth,
            json={"filename": "s3.mp4", "content_type": "video/mp4", "size": len(data)},
        ).json()
        ids = {"upload_id": session["upload_id"], "key": session["key"]}
        url = httpx.post(f"{base}/signPart", headers=auth, json={**ids, "part_number": 1}).json()[
            "url"
        ]
        assert url.startswith(s3_server.endpoint_url) and "X-Amz-Signature" in url
        put = httpx.put(url, content=data)
        assert put.status_code == 200, put.text
        parts = httpx.get(
            f"{base}/{session['upload_id']}/parts", headers=auth, params={"key": session["key"]}
        ).json()
        assert [p["PartNumber"] for p in parts] == [1]
        done = httpx.post(
            f"{base}/complete",
            headers=auth,
            json={**ids, "parts": [{"PartNumber": 1, "ETag": put.headers["ETag"]}]},
        )
        assert done.status_code == 200, done.text
        s3 = s3_server.client()
        body = s3.get_object(Bucket="up-src", Key=session["key"])["Body"].read()
        assert hashlib.sha256(body).digest() == hashlib.sha256(data).digest()
    finally:
        server.stop()
