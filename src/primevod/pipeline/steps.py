"""The three stages of an asset. Each returns a small JSON-able dict (DBOS records it); a
permanent error (bad source) is returned, not raised, so it is never retried; anything else
raised is transient and retried by the workflow's step policy."""

from __future__ import annotations

import contextlib
import hashlib
import shutil
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from primevod.core.assets import AssetError, AssetStatus
from primevod.core.errors import MediaError
from primevod.core.outputs import PackageResult
from primevod.core.policies import get_policy
from primevod.core.progress import Progress
from primevod.observability import metrics
from primevod.pipeline.runtime import runtime

PACKAGE = "package"
PUBLISH_THREADS = 8


def work_dir(asset_id: str, execution_id: str) -> Path:
    return runtime().settings.work_dir / asset_id / execution_id.replace(":", "_")


def _source_path(asset_id: str, execution_id: str) -> Path:
    """A local path for the source: the stored file itself for the local store, else a copy."""
    rt = runtime()
    asset = rt.catalog.get_asset(asset_id)
    path_of = getattr(rt.store, "path_of", None)
    if path_of is not None:
        return Path(path_of(asset.source_bucket, asset.source_key))
    target = work_dir(asset_id, execution_id) / "source" / Path(asset.source_key).name
    if not target.exists():
        rt.store.download(asset.source_bucket, asset.source_key, target)
    return target


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as src:
        while chunk := src.read(1024 * 1024):
            digest.update(chunk)
    return digest.hexdigest()


def clean_work(asset_id: str, execution_id: str) -> None:
    folder = work_dir(asset_id, execution_id)
    shutil.rmtree(folder, ignore_errors=True)
    with contextlib.suppress(OSError):
        folder.parent.rmdir()  # the asset's folder, once no execution uses it


def _failure(exc: MediaError, step: str) -> dict[str, Any]:
    return {
        "ok": False,
        "error": AssetError(code=exc.code, step=step, message=exc.message).model_dump(),
    }


def ingest(asset_id: str, execution_id: str) -> dict[str, Any]:
    rt = runtime()
    started = time.monotonic()
    step = rt.catalog.step_started(execution_id, "ingest")
    try:
        rt.catalog.update_asset(
            asset_id,
            status=AssetStatus.INGESTING,
            progress=0.0,
            execution_id=execution_id,
            error=None,
        )
        source = _source_path(asset_id, execution_id)
        probe = rt.media.inspect(source)
        checksum = _sha256(source)
        asset = rt.catalog.get_asset(asset_id)
        rt.catalog.update_asset(
            asset_id,
            event_type="asset.ingested",
            probe=probe.model_dump(mode="json"),
            checksum=checksum,
            source_size=probe.size,
            duration=probe.duration,
            timings={**asset.timings, "ingest": round(time.monotonic() - started, 3)},
        )
    except MediaError as exc:
        rt.catalog.step_finished(step, "failed", f"{exc.code}: {exc.message}")
        if exc.permanent:
            return _failure(exc, "ingest")
        raise
    except Exception as exc:
        rt.catalog.step_finished(step, "failed", f"{type(exc).__name__}: {exc}")
        raise
    rt.catalog.step_finished(step, "succeeded")
    return {"ok": True}


class _ProgressRecorder:
    """Writes encode progress to the catalog at most every `interval` seconds and turns a
    cancelled workflow into a cancel of the running FFmpeg."""

    def __init__(
        self, asset_id: str, cancel: threading.Event, cancelled: Any, interval: float = 1.0
    ) -> None:
        self.asset_id = asset_id
        self.cancel = cancel
        self.cancelled = cancelled
        self.interval = interval
        self.last = 0.0
        self.quarter = 0

    def __call__(self, p: Progress) -> None:
        now = time.monotonic()
        if now - self.last < self.interval:
            return
        self.last = now
        progress = round(p.fraction * 0.95, 4)
        event: dict[str, Any] = {}
        quarter = min(3, int(p.fraction * 4))  # an `asset.progress` event at 25, 50, 75 %
        if quarter > self.quarter:
            self.quarter = quarter
            event = {
                "event_type": "asset.progress",
                "event_data": {"progress": progress, "encoded_percent": quarter * 25},
            }
        runtime().catalog.update_asset(self.asset_id, progress=progress, **event)
        if self.cancelled():
            self.cancel.set()


def process(asset_id: str, execution_id: str, cancelled: Any) -> dict[str, Any]:
    rt = runtime()
    started = time.monotonic()
    step = rt.catalog.step_started(execution_id, "process")
    out = work_dir(asset_id, execution_id) / PACKAGE
    # leftovers of an attempt that died mid-encode are never reused or published
    for stale in out.parent.glob(f".{PACKAGE}.*"):
        shutil.rmtree(stale, ignore_errors=True)
    try:
        asset = rt.catalog.update_asset(
            asset_id, status=AssetStatus.PROCESSING, event_type="asset.processing"
        )
        ladder_name = str(asset.metadata.get("ladder") or rt.settings.ladder)
        policy = get_policy(ladder_name)
        source = _source_path(asset_id, execution_id)
        cancel = threading.Event()
        result = rt.media.transcode(
            source,
            out,
            policy,
            segment_seconds=rt.settings.segment_seconds,
            on_progress=_ProgressRecorder(asset_id, cancel, cancelled),
            cancel=cancel,
            overwrite=True,
            checksum=asset.checksum,
            analysis_cache=rt.settings.home / "cache" / "analysis",
        )
        (out.parent / "result.json").write_text(result.model_dump_json())
        metrics.observe("primevod_encode_realtime_factor", result.realtime_factor)
        asset = rt.catalog.get_asset(asset_id)
        rt.catalog.update_asset(
            asset_id,
            ladder=result.ladder.model_dump(mode="json"),
            progress=0.95,
            timings={
                **asset.timings,
                "process": round(time.monotonic() - started, 3),
                "encode": result.encode_seconds,
                **({"analysis": result.analysis_seconds} if result.auto else {}),
            },
        )
    except MediaError as exc:
        rt.catalog.step_finished(step, "failed", f"{exc.code}: {exc.message}")
        if exc.permanent or exc.code == "encode.cancelled":
            return _failure(exc, "process")
        raise
    except Exception as exc:
        rt.catalog.step_finished(step, "failed", f"{type(exc).__name__}: {exc}")
        raise
    rt.catalog.step_finished(step, "succeeded")
    return {"ok": True}


def publish(asset_id: str, execution_id: str, cancelled: Any) -> dict[str, Any]:
    """Upload the finished package under a prefix of its own execution, manifests last, then
    point the asset at it. A crash here re-uploads the same files: nothing half-published is
    ever referenced by the catalog."""
    rt = runtime()
    started = time.monotonic()
    step = rt.catalog.step_started(execution_id, "publish")
    try:
        base = work_dir(asset_id, execution_id)
        package = base / PACKAGE
        result = PackageResult.model_validate_json((base / "result.json").read_text())
        asset = rt.catalog.update_asset(
            asset_id, status=AssetStatus.PUBLISHING, event_type="asset.publishing"
        )
        bucket = rt.settings.destination_bucket
        prefix = f"assets/{asset_id}/{execution_id.rsplit('.', 1)[-1]}/"
        files = sorted(p for p in package.rglob("*") if p.is_file())
        manifests = {result.master, result.manifest}

        def upload(path: Path) -> None:
            rt.store.put_file(
                bucket,
                prefix + path.relative_to(package).as_posix(),
                path,
                metadata={"asset-id": asset_id},
            )

        # segments, playlists and thumbnails in parallel (S3 round trips, fsyncs overlap),
        # the manifests that reference them only once they are all in place
        with ThreadPoolExecutor(max_workers=PUBLISH_THREADS) as pool:
            list(
                pool.map(
                    upload,
                    [p for p in files if p.relative_to(package).as_posix() not in manifests],
                )
            )
        for name in sorted(manifests):
            upload(package / name)
        renditions = [r.model_dump(mode="json") for r in result.renditions]
        thumbs = {
            "poster": prefix + result.poster if result.poster else None,
            "storyboard": prefix + result.storyboard if result.storyboard else None,
            "sprites": [prefix + s for s in result.sprites],
            "count": len(result.thumbnails),
        }
        if cancelled():
            # cancelled while uploading: what was uploaded is never referenced, so it goes
            rt.store.delete_prefix(bucket, prefix)
            rt.catalog.step_finished(step, "failed", "workflow.cancelled: cancelled on request")
            return {"ok": True, "cancelled": True}
        old_prefix = asset.output_prefix
        timings = {**asset.timings, "publish": round(time.monotonic() - started, 3)}
        rt.catalog.update_asset(
            asset_id,
            status=AssetStatus.READY,
            event_type="asset.ready",
            output_bucket=bucket,
            output_prefix=prefix,
            hls_path=prefix + result.master,
            dash_path=prefix + result.manifest,
            renditions=renditions,
            thumbnails=thumbs,
            validation={"passed": result.validation.passed, **result.validation.summary()},
            progress=1.0,
            timings=timings,
            error=None,
        )
        if old_prefix and old_prefix != prefix:
            rt.store.delete_prefix(bucket, old_prefix)  # the package this one replaces
    except Exception as exc:
        rt.catalog.step_finished(step, "failed", f"{type(exc).__name__}: {exc}")
        raise
    rt.catalog.step_finished(step, "succeeded")
    clean_work(asset_id, execution_id)
    return {"ok": True}


def record_failure(asset_id: str, execution_id: str, error: dict[str, Any]) -> None:
    rt = runtime()
    failure = AssetError.model_validate(error)
    rt.catalog.update_asset(
        asset_id, status=AssetStatus.FAILED, error=failure, event_type="asset.failed"
    )
    rt.catalog.finish_execution(execution_id, "failed", failure)
    clean_work(asset_id, execution_id)
