"""The same pipeline on an S3 store (moto server on loopback): source downloaded for the
encode, package uploaded to the destination bucket, catalog pointing at it."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import boto3


def test_process_on_s3(clip, moto_url, tmp_path) -> None:
    env = {
        **os.environ,
        "PRIMEVOD_HOME": str(tmp_path / "home"),
        "PRIMEVOD_STORE": "s3",
        "PRIMEVOD_S3_ENDPOINT_URL": moto_url,
        "PRIMEVOD_S3_ACCESS_KEY_ID": "test",
        "PRIMEVOD_S3_SECRET_ACCESS_KEY": "test",
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
    s3 = boto3.client(
        "s3",
        endpoint_url=moto_url,
        aws_access_key_id="test",
        aws_secret_access_key="test",
        region_name="us-east-1",
    )
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


def test_uploads_go_straight_to_s3(moto_url, tmp_path, clip) -> None:
    """With the s3 store, signPart hands out real S3 presigned UploadPart URLs: the bytes go
    to the object store, not through the server."""
    import hashlib

    import httpx
    from conftest import Server

    s3_env = {
        "PRIMEVOD_STORE": "s3",
        "PRIMEVOD_S3_ENDPOINT_URL": moto_url,
        "PRIMEVOD_S3_ACCESS_KEY_ID": "test",
        "PRIMEVOD_S3_SECRET_ACCESS_KEY": "test",
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
        assert url.startswith(moto_url) and "X-Amz-Signature" in url
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
        s3 = boto3.client(
            "s3",
            endpoint_url=moto_url,
            aws_access_key_id="test",
            aws_secret_access_key="test",
            region_name="us-east-1",
        )
        body = s3.get_object(Bucket="up-src", Key=session["key"])["Body"].read()
        assert hashlib.sha256(body).digest() == hashlib.sha256(data).digest()
    finally:
        server.stop()
