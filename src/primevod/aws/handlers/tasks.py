"""The state machine's Lambda tasks: ingest -> plan -> (MediaConvert, a native task) ->
validate -> publish, and the failure record every Catch leads to. Each takes the state the
state machine passes and returns what it adds to it.

Errors: a task raises `SourceRejected`, `PlanRejected` or `PackageInvalid` for what no
retry can fix (Step Functions names the error after the exception class, and the state
machine retries only transient errors), with the project's stable code in the message
(`source.unreadable: ...`), which `failure_handler` records on the asset as the local
pipeline does."""

from __future__ import annotations

import json
from pathlib import PurePosixPath
from typing import Any

from primevod.adapters.aws.mediaconvert_probe import probe_result
from primevod.adapters.aws.s3_fetcher import S3Fetcher
from primevod.adapters.media.dash_validator import check_mpd, read_mpd
from primevod.adapters.media.hls_validator import validate_hls
from primevod.aws.handlers.context import assets, client, config
from primevod.core.assets import Asset, AssetError, AssetStatus
from primevod.core.errors import MediaError, NotFound
from primevod.core.layout import package_prefix
from primevod.core.mediaconvert import create_job_request
from primevod.core.policies import asset_policy
from primevod.core.probe import ProbeResult
from primevod.core.source_rules import check_source, limits_for

MASTER, MANIFEST = "master.m3u8", "master.mpd"  # MediaConvert names both after the group


class SourceRejected(Exception):
    """The source breaks a source rule or cannot be read: permanent."""


class PlanRejected(Exception):
    """The ladder cannot be expressed as a MediaConvert job: permanent."""


class PackageInvalid(Exception):
    """The encoded package failed validation: permanent."""


class TransientError(Exception):
    """Worth another attempt (the state machine retries it with backoff)."""


# which task raised a permanent error, for the record
STEP_OF = {"SourceRejected": "ingest", "PlanRejected": "plan", "PackageInvalid": "validate"}


def ingest_handler(event: dict[str, Any], context: Any = None) -> dict[str, Any]:
    """Record the asset, probe its source with MediaConvert and apply the source rules."""
    asset_id, bucket, key = event["asset_id"], event["bucket"], event["key"]
    url = f"s3://{bucket}/{key}"
    records = assets()
    records.create(
        Asset(id=asset_id, title=PurePosixPath(key).stem, source_bucket=bucket, source_key=key)
    )
    try:
        probe = probe_result(client("mediaconvert").probe(InputFiles=[{"FileUrl": url}]), url)
        check_source(probe, limits_for(config().profile))
    except MediaError as exc:
        raise SourceRejected(f"{exc.code}: {exc.message}") from None
    records.update(
        asset_id,
        status=AssetStatus.PROCESSING,
        probe=probe.model_dump(mode="json"),
        source_size=probe.size,
        duration=probe.duration,
        execution_id=asset_id,
    )
    return {**event, "probe": probe.model_dump(mode="json"), "source_url": url}


def plan_handler(event: dict[str, Any], context: Any = None) -> dict[str, Any]:
    """The MediaConvert job for the title, from the ladder policy and codec families the
    execution's input names (`ladder`, `codecs`), else the deployment's (`PRIMEVOD_LADDER`,
    `PRIMEVOD_CODECS`); an unknown one is a PlanRejected."""
    cfg = config()
    asset_id = event["asset_id"]
    prefix = package_prefix(asset_id, f"{asset_id}.1")  # one execution per asset (its name)
    destination = f"s3://{cfg.destination_bucket}/{prefix}"
    try:
        job = create_job_request(
            ProbeResult.model_validate(event["probe"]),
            asset_policy(event, cfg.ladder, cfg.codecs),
            role_arn=cfg.mediaconvert_role_arn,
            input_url=event["source_url"],
            destination=destination,
            queue_arn=cfg.mediaconvert_queue_arn or None,
        )
    except MediaError as exc:
        raise PlanRejected(f"{exc.code}: {exc.message}") from None
    assets().update(asset_id, ladder=job.ladder.model_dump(mode="json"))
    # the Encode state forwards it, so it is always there (off unless the job asks for it)
    request = {"AccelerationSettings": {"Mode": "DISABLED"}, **job.request}
    return {"job": request, "destination": destination, "prefix": prefix, "notes": job.notes}


def validate_handler(event: dict[str, Any], context: Any = None) -> dict[str, Any]:
    """The package MediaConvert wrote, through the same validator as a local package: the
    HLS master and media playlists, every segment's presence and size, the keyframe at
    each segment start (from the fragment headers: the Lambda bundle has no decoder), the
    RFC 8216 bandwidths against the measured segments, and the DASH manifest."""
    cfg = config()
    fetcher = S3Fetcher(client("s3"), cfg.destination_bucket, event["plan"]["prefix"])
    report = validate_hls(MASTER, fetcher, decode_samples=0)
    mpd = read_mpd(report, MANIFEST, fetcher)
    if mpd is not None:
        check_mpd(report, MANIFEST, mpd, fetcher)
    if not report.passed:
        failed = "; ".join(f"{r.rule} ({r.target}): {r.message}" for r in report.failures[:3])
        raise PackageInvalid(f"package.invalid: output failed validation: {failed}")
    return {"passed": True, **report.summary()}


def publish_handler(event: dict[str, Any], context: Any = None) -> dict[str, Any]:
    """Point the asset at its package and tell the subscribers."""
    cfg = config()
    asset_id, prefix = event["asset_id"], event["plan"]["prefix"]
    validation = event.get("validation") or {}
    asset = assets().update(
        asset_id,
        status=AssetStatus.READY,
        output_bucket=cfg.destination_bucket,
        output_prefix=prefix,
        hls_path=prefix + MASTER,
        dash_path=prefix + MANIFEST,
        validation=validation or None,
        progress=1.0,
        error=None,
    )
    notify("asset.ready", asset)
    return {"status": asset.status.value, "hls_path": asset.hls_path, "dash_path": asset.dash_path}


def failure_handler(event: dict[str, Any], context: Any = None) -> dict[str, Any]:
    """Record the error a Catch caught (`$.error`: Step Functions' Error and Cause) on the
    asset, with the project's code, and tell the subscribers."""
    cfg = config()
    asset_id = event["asset_id"]
    error = asset_error(event.get("error") or {})
    records = assets()
    try:
        records.get(asset_id)
    except NotFound:  # failed before ingest recorded it
        bucket, key = event.get("bucket", cfg.source_bucket), event.get("key", "")
        records.create(Asset(id=asset_id, source_bucket=bucket, source_key=key))
    asset = records.update(asset_id, status=AssetStatus.FAILED, error=error)
    notify("asset.failed", asset)
    return {"status": "failed", "error": error.model_dump()}


def asset_error(caught: dict[str, Any]) -> AssetError:
    """Step Functions' {Error, Cause} as the asset's error: our own errors carry
    `code: message`; a MediaConvert job that ended in ERROR (the `.sync` task fails with
    the job as its cause) or a MediaConvert API error is `encode.failed`; anything else (a
    task that kept failing, a timeout) is `workflow.step_failed`."""
    name = str(caught.get("Error") or "States.TaskFailed")
    raw = caught.get("Cause")
    parsed = _json(raw)
    cause = _message(parsed, raw)
    if name in STEP_OF:
        code, _, message = cause.partition(": ")
        return AssetError(code=code, step=STEP_OF[name], message=message or cause)
    job = _mediaconvert_job(parsed)
    if job is not None:
        message = f"MediaConvert job {job.get('Id', '?')} ended in {job.get('Status', 'ERROR')}"
        if job.get("ErrorMessage"):
            message += f" (error {job.get('ErrorCode', '?')}): {job['ErrorMessage']}"
        return AssetError(code="encode.failed", step="encode", message=message[:500])
    if name.startswith("MediaConvert") or "mediaconvert" in cause.lower():
        return AssetError(code="encode.failed", step="encode", message=cause[:500])
    return AssetError(code="workflow.step_failed", step=None, message=f"{name}: {cause[:500]}")


def _json(raw: Any) -> Any:
    if not isinstance(raw, str):
        return None
    try:
        return json.loads(raw)
    except ValueError:
        return None


def _message(parsed: Any, raw: Any) -> str:
    """A Lambda error's Cause is JSON with `errorMessage`; a service task's is its own text."""
    if isinstance(parsed, dict):
        for field in ("errorMessage", "ErrorMessage", "message"):
            if parsed.get(field):
                return str(parsed[field])
    return raw if isinstance(raw, str) else ""


def _mediaconvert_job(parsed: Any) -> dict[str, Any] | None:
    """The MediaConvert job a failed `.sync` task names as its cause (GetJob's `Job`, bare or
    wrapped), recognized by its ARN or its job status."""
    job = parsed.get("Job", parsed) if isinstance(parsed, dict) else None
    if not isinstance(job, dict):
        return None
    if ":mediaconvert:" in str(job.get("Arn", "")) or job.get("Status") in ("ERROR", "CANCELED"):
        return job
    return None


def notify(event_type: str, asset: Asset) -> None:
    """The asset event on the SNS topic (the local outbox's role), typed for filtering."""
    body = {
        "type": event_type,
        "asset_id": asset.id,
        "status": asset.status.value,
        "hls_path": asset.hls_path,
        "dash_path": asset.dash_path,
        "error": asset.error.model_dump() if asset.error else None,
    }
    client("sns").publish(
        TopicArn=config().events_topic_arn,
        Message=json.dumps(body),
        MessageAttributes={"type": {"DataType": "String", "StringValue": event_type}},
    )
