"""The stages of an asset, written against the runtime's ports. Each takes what it needs as
arguments and returns its outcome (the workflow's durable record of it): ingest records the
probe, process stages a validated package in the object store under the execution's prefix
and returns where, publish points the catalog at that package. No step reads another
step's local files; the local work folder only caches the source for the steps of one
worker (checked against the stored object before use)."""

from __future__ import annotations

import contextlib
import shutil
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from primevod.adapters.media.checksum import sha256_of
from primevod.core.assets import AssetError, AssetStatus
from primevod.core.errors import MediaError
from primevod.core.execution import ProcessOutcome, StagedPackage, StepOutcome
from primevod.core.layout import chunk_prefix, package_prefix
from primevod.core.policies import asset_policy
from primevod.core.progress import Progress
from primevod.observability import metrics
from primevod.pipeline import content_protection, costing, package_store, subtitle_sidecars
from primevod.pipeline.runtime import Runtime
from primevod.pipeline.step_runner import run_step
from primevod.ports.catalog import Catalog
from primevod.ports.object_store import in_place_path

PACKAGE = "package"


def work_dir(rt: Runtime, asset_id: str, execution_id: str) -> Path:
    return rt.settings.work_dir / asset_id / execution_id.replace(":", "_")


def source_path(rt: Runtime, asset_id: str, execution_id: str) -> Path:
    """A local path for the source: the stored file itself on a file-backed store, else a
    copy in this worker's work folder (downloaded again unless its size matches)."""
    from primevod.pipeline.lifecycle import require_source

    asset = rt.catalog.get_asset(asset_id)
    require_source(rt, asset)  # source.expired (permanent) once the lifecycle removed it
    in_place = in_place_path(rt.store, asset.source_bucket, asset.source_key)
    if in_place is not None:  # a sealed (encrypted) source is downloaded, i.e. decrypted
        return in_place
    target = work_dir(rt, asset_id, execution_id) / "source" / Path(asset.source_key).name
    with _download_lock(target):  # chunk steps of one worker share the copy
        stored = rt.store.head(asset.source_bucket, asset.source_key)
        if not target.is_file() or target.stat().st_size != stored.size:
            rt.store.download(asset.source_bucket, asset.source_key, target)
    return target


_download_locks: dict[Path, threading.Lock] = {}
_download_locks_guard = threading.Lock()


def _download_lock(path: Path) -> threading.Lock:
    with _download_locks_guard:
        return _download_locks.setdefault(path, threading.Lock())


def clean_work(rt: Runtime, asset_id: str, execution_id: str) -> None:
    folder = work_dir(rt, asset_id, execution_id)
    shutil.rmtree(folder, ignore_errors=True)
    with contextlib.suppress(OSError):
        folder.parent.rmdir()  # the asset's folder, once no execution uses it


# -- ingest ---------------------------------------------------------------------------------
def ingest(rt: Runtime, asset_id: str, execution_id: str) -> StepOutcome:
    def body() -> StepOutcome:
        started = time.monotonic()
        rt.catalog.update_asset(
            asset_id,
            status=AssetStatus.INGESTING,
            progress=0.0,
            activity="checking the source",
            execution_id=execution_id,
            error=None,
        )
        source = source_path(rt, asset_id, execution_id)
        probe = rt.media.inspect(source)
        checksum = sha256_of(source)
        asset = rt.catalog.get_asset(asset_id)
        rt.catalog.update_asset(
            asset_id,
            event_type="asset.ingested",
            probe=probe.model_dump(mode="json"),
            activity=None,
            checksum=checksum,
            source_size=probe.size,
            duration=probe.duration,
            timings={**asset.timings, "ingest": round(time.monotonic() - started, 3)},
        )
        return StepOutcome()

    return run_step(rt.catalog, "ingest", asset_id, execution_id, body)


# -- process --------------------------------------------------------------------------------
ENCODE_SHARE = 0.95  # of the asset's progress: the encode; validating and storing the rest
STORING = "storing the package"


class _ProgressRecorder:
    """Writes encode progress (and what the encode is doing) to the catalog every `interval`
    seconds and whenever it reaches another tenth, so that a short encode still shows its
    way up; an `asset.progress` event at 25, 50 and 75 %. It also turns a cancelled workflow
    into a cancel of the running FFmpeg."""

    def __init__(
        self,
        catalog: Catalog,
        asset_id: str,
        cancel: threading.Event,
        cancelled: Callable[[], bool],
        interval: float = 1.0,
    ) -> None:
        self.catalog = catalog
        self.asset_id = asset_id
        self.cancel = cancel
        self.cancelled = cancelled
        self.interval = interval
        self.last = self.asked = -interval  # the first report is recorded at once
        self.tenth = -1
        self.quarter = 0
        self.activity: str | None = None

    def __call__(self, p: Progress) -> None:
        now = time.monotonic()
        if now - self.asked >= self.interval:
            self.asked = now
            if self.cancelled():
                self.cancel.set()
        tenth = min(10, int(p.fraction * 10))
        activity = STORING if p.done else p.activity
        due = now - self.last >= self.interval
        if not due and tenth == self.tenth and activity == self.activity:
            return
        self.last, self.tenth, self.activity = now, tenth, activity
        progress = round(p.fraction * ENCODE_SHARE, 4)
        event: dict[str, Any] = {}
        quarter = min(3, int(p.fraction * 4))
        if quarter > self.quarter:
            self.quarter = quarter
            event = {
                "event_type": "asset.progress",
                "event_data": {"progress": progress, "encoded_percent": quarter * 25},
            }
        self.catalog.update_asset(self.asset_id, progress=progress, activity=activity, **event)


def _encode(rt: Runtime, asset_id: str, execution_id: str, cancelled: Callable[[], bool]) -> Any:
    """The package in this worker's work folder (an earlier attempt's leftovers removed)."""
    out = work_dir(rt, asset_id, execution_id) / PACKAGE
    for stale in [out, *out.parent.glob(f".{PACKAGE}.*")]:
        shutil.rmtree(stale, ignore_errors=True)
    asset = rt.catalog.update_asset(
        asset_id,
        status=AssetStatus.PROCESSING,
        activity="planning the ladder",
        event_type="asset.processing",
    )
    cancel = threading.Event()
    return rt.media.transcode(
        source_path(rt, asset_id, execution_id),
        out,
        asset_policy(asset.metadata, rt.settings.ladder, rt.settings.codecs),
        segment_seconds=rt.settings.segment_seconds,
        on_progress=_ProgressRecorder(rt.catalog, asset_id, cancel, cancelled),
        cancel=cancel,
        overwrite=True,
        checksum=asset.checksum,
        analysis_cache=rt.settings.home / "cache" / "analysis",
        subtitles=subtitle_sidecars.fetch(rt, asset.metadata, out.parent / "sidecars"),
    )


def process(
    rt: Runtime, asset_id: str, execution_id: str, cancelled: Callable[[], bool]
) -> StepOutcome:
    """Encode, validate and stage the package; the outcome says where it is."""

    def body() -> ProcessOutcome:
        started = time.monotonic()
        result = _encode(rt, asset_id, execution_id, cancelled)
        subtitle_sidecars.note_skipped(rt, asset_id, result.skipped_subtitles)
        metrics.observe("primevod_encode_realtime_factor", result.realtime_factor)
        costing.record_actual(rt, asset_id, execution_id, result, result.encode_cpu_seconds)
        bucket = rt.settings.destination_bucket
        prefix = package_prefix(asset_id, execution_id)
        result = content_protection.protect(rt, asset_id, result)  # encrypted HLS, if asked
        staged = package_store.stage(rt.store, result, bucket, prefix, asset_id)
        shutil.rmtree(result.output_dir, ignore_errors=True)  # staged: the local copy goes
        if cancelled():  # cancelled while staging: nothing may keep what was uploaded
            rt.store.delete_prefix(bucket, prefix)
            raise MediaError("encode.cancelled", "cancelled on request")
        asset = rt.catalog.get_asset(asset_id)
        timings = {"process": round(time.monotonic() - started, 3), "encode": result.encode_seconds}
        if result.auto:
            timings["analysis"] = result.analysis_seconds
        rt.catalog.update_asset(
            asset_id,
            ladder=result.ladder.model_dump(mode="json"),
            progress=ENCODE_SHARE,
            activity=None,
            timings={**asset.timings, **timings},
        )
        return ProcessOutcome(package=staged)

    def on_media_error(exc: MediaError) -> StepOutcome | None:
        if exc.permanent or exc.code == "encode.cancelled":
            return StepOutcome.failure(exc.code, "process", exc.message)
        return None

    return run_step(
        rt.catalog, "process", asset_id, execution_id, body, on_media_error=on_media_error
    )


# -- publish --------------------------------------------------------------------------------
def _published_fields(staged: StagedPackage) -> dict[str, Any]:
    result, prefix = staged.result, staged.prefix
    return {
        "output_bucket": staged.bucket,
        "output_prefix": prefix,
        "hls_path": prefix + result.master,
        "dash_path": prefix + result.manifest if result.manifest else None,  # None: HLS only
        "renditions": [r.model_dump(mode="json") for r in result.renditions],
        "thumbnails": {
            "poster": prefix + result.poster if result.poster else None,
            "storyboard": prefix + result.storyboard if result.storyboard else None,
            "sprites": [prefix + s for s in result.sprites],
            "count": len(result.thumbnails),
        },
        "validation": {"passed": result.validation.passed, **result.validation.summary()},
    }


def publish(
    rt: Runtime,
    asset_id: str,
    execution_id: str,
    staged: StagedPackage,
    cancelled: Callable[[], bool],
) -> StepOutcome:
    """Point the asset at the staged package and remove the one it replaces. Nothing is
    uploaded here: the package is whole before the catalog references it."""

    def body() -> StepOutcome:
        started = time.monotonic()
        asset = rt.catalog.update_asset(
            asset_id, status=AssetStatus.PUBLISHING, event_type="asset.publishing"
        )
        if cancelled():  # never referenced, so it goes
            rt.store.delete_prefix(staged.bucket, staged.prefix)
            return StepOutcome(cancelled=True)
        old_bucket, old_prefix = asset.output_bucket, asset.output_prefix
        rt.catalog.update_asset(
            asset_id,
            status=AssetStatus.READY,
            event_type="asset.ready",
            progress=1.0,
            error=None,
            timings={**asset.timings, "publish": round(time.monotonic() - started, 3)},
            **_published_fields(staged),
        )
        if old_prefix and old_prefix != staged.prefix:  # the package this one replaces
            rt.store.delete_prefix(old_bucket or staged.bucket, old_prefix)
        return StepOutcome()

    outcome = run_step(rt.catalog, "publish", asset_id, execution_id, body)
    clean_work(rt, asset_id, execution_id)
    return outcome


# -- failure --------------------------------------------------------------------------------
def record_failure(rt: Runtime, asset_id: str, execution_id: str, error: AssetError) -> None:
    """The asset failed: record it, and remove a package this execution staged (nothing
    references it)."""
    asset = rt.catalog.update_asset(
        asset_id, status=AssetStatus.FAILED, error=error, activity=None, event_type="asset.failed"
    )
    rt.catalog.finish_execution(execution_id, "failed", error)
    rt.costs.mark_failed(execution_id)
    package_store.drop_unpublished(
        rt.store,
        rt.settings.destination_bucket,
        package_prefix(asset_id, execution_id),
        asset.output_prefix,
    )
    rt.store.delete_prefix(rt.settings.destination_bucket, chunk_prefix(asset_id, execution_id))
    clean_work(rt, asset_id, execution_id)
