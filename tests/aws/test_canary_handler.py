"""The AWS canary handler (handlers/canary.py) on moto's DynamoDB, Secrets Manager and
CloudWatch (mocks), playing a real package over real HTTP from a local server that stands
in for CloudFront: a good package passes and publishes CanaryFailed 0; a package missing a
segment fails, says which, and publishes 1."""

from __future__ import annotations

import functools
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto import mock_aws
from signing_keys import signing_key

from primevod.adapters.media.ffmpeg_command import EncodeOptions
from primevod.adapters.media.transcoder import MediaEngine
from primevod.aws.handlers import canary, context, playback
from primevod.core.assets import Asset, AssetStatus
from primevod.core.policies import get_policy

REGION = "us-east-1"
PREFIX = "assets/a1/1/"


class Quiet(SimpleHTTPRequestHandler):
    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def origin(tmp_path: Path, clip) -> Iterator[tuple[str, Path]]:
    """A real package under assets/a1/1/, served over HTTP (CloudFront's stand-in)."""
    root = tmp_path / "site"
    package = MediaEngine(EncodeOptions(preset="ultrafast")).transcode(
        clip("small.mp4"), tmp_path / "pkg", get_policy("default")
    )
    (root / PREFIX).parent.mkdir(parents=True)
    Path(package.output_dir).rename(root / PREFIX)
    server = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Quiet, directory=root))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}", root / PREFIX
    server.shutdown()


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch, origin: tuple[str, Path]) -> Iterator[Any]:
    base, _ = origin
    for name, value in {
        "AWS_DEFAULT_REGION": REGION,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "PRIMEVOD_ASSETS_TABLE": "assets",
    }.items():
        monkeypatch.setenv(name, value)
    with mock_aws():
        context.client.cache_clear()
        playback._private_key.cache_clear()
        boto3.client("dynamodb", region_name=REGION).create_table(
            TableName="assets",
            KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
            AttributeDefinitions=[
                {"AttributeName": a, "AttributeType": "S"} for a in ("id", "status", "created_at")
            ],
            GlobalSecondaryIndexes=[
                {
                    "IndexName": "status-index",
                    "KeySchema": [
                        {"AttributeName": "status", "KeyType": "HASH"},
                        {"AttributeName": "created_at", "KeyType": "RANGE"},
                    ],
                    "Projection": {"ProjectionType": "ALL"},
                }
            ],
            BillingMode="PAY_PER_REQUEST",
        )
        signing_key(monkeypatch, "K2CANARY", base)
        records = context.assets()
        records.create(Asset(id="a1", source_bucket="src", source_key="uploads/a1/x.mp4"))
        records.update(
            "a1",
            status=AssetStatus.READY,
            output_bucket="dst",
            output_prefix=PREFIX,
            hls_path=PREFIX + "master.m3u8",
        )
        records.create(Asset(id="a2", source_bucket="src", source_key="uploads/a2/y.mp4"))
        yield boto3.client("cloudwatch", region_name=REGION)
        context.client.cache_clear()


def published(cloudwatch: Any) -> dict[str, float]:
    metrics = cloudwatch.list_metrics(Namespace="PrimeVod/Canary")["Metrics"]
    now = datetime.now(UTC)
    values = {}
    for metric in metrics:
        points = cloudwatch.get_metric_data(
            MetricDataQueries=[
                {
                    "Id": "m",
                    "MetricStat": {"Metric": metric, "Period": 60, "Stat": "Maximum"},
                }
            ],
            StartTime=now - timedelta(minutes=10),  # moto walks every period in between
            EndTime=now + timedelta(minutes=10),
        )["MetricDataResults"][0]["Values"]
        values[metric["MetricName"]] = max(points)
    return values


def test_a_good_package_passes(aws: Any) -> None:
    out = canary.handler({})
    assert out["checked"] == ["a1"] and out["failed"] == []  # a2 is not ready: not checked
    assert published(aws) == {"CanaryFailed": 0.0, "CanaryRuns": 1.0}


def test_a_missing_segment_fails_the_run(aws: Any, origin: tuple[str, Path]) -> None:
    _, folder = origin
    segment = next(p for p in sorted(folder.rglob("*.m4s")) if "chunk" in p.name)
    segment.unlink()
    out = canary.handler({})
    [failed] = out["failed"]
    assert failed["asset_id"] == "a1"
    assert any(segment.name in f for f in failed["failures"]), failed["failures"]
    assert published(aws)["CanaryFailed"] == 1.0
