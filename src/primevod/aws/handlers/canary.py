"""The synthetic HLS canary on AWS: every 5 minutes (an EventBridge schedule) it plays the
newest ready assets through CloudFront as a viewer would, with signed cookies for each
package, and runs the project's HLS validator on what comes back (the master, every media
playlist, every segment's size and a sample of segments, keyframes read from the fragment
headers). It publishes `PrimeVod/Canary` `CanaryFailed` (1 when any asset failed, else 0)
and `CanaryRuns`, which the canary-failure alarm watches.

Why a scheduled Lambda rather than CloudWatch Synthetics: the checks are the project's own
(the same validator as the local canary and the Validate step), and it costs 0.15 to
0.25 USD a month at 512 MB (8,640 runs of 2 to 3 s, at $0.0000166667 per GB-second) where
a Synthetics canary every 5 minutes is about 10 USD ($0.0012 a run), half of the default
budget."""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from typing import Any

from primevod.adapters.media.hls_validator import validate_hls
from primevod.adapters.media.http_fetcher import HttpFetcher
from primevod.aws.handlers.context import assets, client
from primevod.aws.handlers.playback import signer
from primevod.core.assets import Asset, AssetStatus

NAMESPACE = "PrimeVod/Canary"
SIGNATURE_SECONDS = 900
SAMPLE_SEGMENTS = 2
BUDGET_SECONDS = 60.0  # per asset: a hung origin cannot hold the run


@dataclass(frozen=True)
class Check:
    asset_id: str
    passed: bool
    failures: list[str]
    seconds: float


def check(asset: Asset, base_url: str) -> Check:
    """One asset's package through the distribution, with signed cookies for its folder."""
    started = time.monotonic()
    folder = base_url + (asset.output_prefix or "")
    master = base_url + (asset.hls_path or "")
    cookies = signer().signed_cookies(folder + "*", int(time.time()) + SIGNATURE_SECONDS)
    with HttpFetcher(cookies=cookies, auth_origin=master, budget=BUDGET_SECONDS) as fetcher:
        report = validate_hls(master, fetcher, sample_segments=SAMPLE_SEGMENTS, decode_samples=0)
    failures = [f"{r.rule} ({r.target}): {r.message}" for r in report.failures[:5]]
    return Check(asset.id, report.passed, failures, time.monotonic() - started)


def handler(event: dict[str, Any], context: Any = None) -> dict[str, Any]:
    base_url = os.environ["PRIMEVOD_PLAYBACK_BASE_URL"].rstrip("/") + "/"
    limit = int(os.environ.get("PRIMEVOD_CANARY_MAX_ASSETS", 3))
    ready = [a for a in assets().recent(AssetStatus.READY.value, limit) if a.hls_path]
    checks = [check(asset, base_url) for asset in ready]
    failed = [c for c in checks if not c.passed]
    client("cloudwatch").put_metric_data(
        Namespace=NAMESPACE,
        MetricData=[
            {"MetricName": "CanaryFailed", "Value": 1.0 if failed else 0.0, "Unit": "Count"},
            {"MetricName": "CanaryRuns", "Value": float(len(checks)), "Unit": "Count"},
        ],
    )
    return {
        "checked": [c.asset_id for c in checks],
        "failed": [{"asset_id": c.asset_id, "failures": c.failures} for c in failed],
        "seconds": round(sum(c.seconds for c in checks), 3),
    }
