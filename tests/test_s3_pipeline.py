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
