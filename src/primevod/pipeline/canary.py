"""The synthetic HLS canary: fetch a served master playlist (signed when given a signer), every
media playlist and a sample of segments, and run the media core's validator on what came
back. One call is one canary run; the scheduled canary calls `run_canary` per ready asset."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from urllib.parse import urlsplit

from primevod.adapters.media.http_fetcher import HttpFetcher
from primevod.adapters.media.package_validator import validate_hls
from primevod.core.canary import CanaryResult, canary_result
from primevod.core.outputs import ValidationReport
from primevod.core.signing import Signer, split_signed_url

SIGNATURE_LIFETIME = 900  # seconds the canary's own signed cookies stay valid


def is_http_url(url: str) -> bool:
    parts = urlsplit(url)
    return parts.scheme in ("http", "https") and bool(parts.hostname)


def package_resource(url: str) -> str:
    """The wildcard policy resource covering the master's folder:
    `https://host/vod/ASSET/master.m3u8` -> `https://host/vod/ASSET/*`."""
    parts = urlsplit(url)
    folder = parts.path.rsplit("/", 1)[0] + "/"
    return f"{parts.scheme}://{parts.netloc}{folder}*"


def run_canary(
    url: str,
    *,
    signer: Signer | None = None,
    sample_segments: int = 2,
    timeout: float = 10.0,
    retries: int = 2,
    budget: float = 300.0,
) -> CanaryResult:
    """Check the HLS package behind `url`. Never raises for a broken or unreachable target:
    the result says passed=False with each failed rule (or `error` when nothing could run).

    Every media playlist is read, every segment is sized with a HEAD (reachability and the
    bitrate rules need all sizes) and `sample_segments` per playlist (spread over the title;
    0 = all) are downloaded, demuxed for the keyframe rule and decoded. With `signer`, one
    custom-policy wildcard for the master's folder travels as CloudFront signed cookies.
    Signing parameters already in `url` are sent with every request to the same origin
    (and never appear in the result). After `budget` seconds the remaining requests fail
    at once, so the run ends with those rules failed."""
    started_at = datetime.now(UTC)
    clock = time.monotonic()
    bare, signing_params = split_signed_url(url)
    report = ValidationReport()
    error: str | None = None
    fetcher: HttpFetcher | None = None
    if not is_http_url(bare):
        error = f"not an http(s) URL: {bare!r}"
    else:
        try:
            cookies = (
                signer.signed_cookies(package_resource(bare), int(time.time()) + SIGNATURE_LIFETIME)
                if signer is not None
                else None
            )
            fetcher = HttpFetcher(
                timeout=timeout,
                retries=retries,
                cookies=cookies,
                params=signing_params,
                auth_origin=bare,
                budget=budget,
            )
            with fetcher:
                validate_hls(
                    bare,
                    fetcher,
                    report,
                    sample_segments=None if sample_segments <= 0 else sample_segments,
                )
        except Exception as exc:  # a canary reports; it does not crash its scheduler
            error = f"{type(exc).__name__}: {exc}"
    return canary_result(
        bare,
        report,
        started_at=started_at,
        duration_ms=(time.monotonic() - clock) * 1000,
        requests=list(fetcher.records) if fetcher else [],
        error=error,
    )
