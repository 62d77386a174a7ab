"""Split-and-stitch in the pipeline: the stages of a title encoded in chunks across workers,
written against the runtime's ports like the single-pass stages in steps.py.

`plan` decides (settings and duration: core/chunks.chunk_length) and cuts the title on its
segment grid; `encode_chunk` (one per chunk: every rung and the chunk's thumbnails) and
`title_audio` (the whole title's audio, once) may run on any worker: each reads the source
from the object store and leaves its output there under the execution's chunk prefix, never
on its own disk for another step; `stitch` brings those files to one worker, packages and
validates them, and stages the package exactly as the single-pass `process` does."""

from __future__ import annotations

import shutil
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from primevod.core.assets import AssetStatus
from primevod.core.chunks import Chunk, chunk_length
from primevod.core.errors import MediaError
from primevod.core.execution import (
    AudioOutcome,
    ChunkOutcome,
    PlanOutcome,
    ProcessOutcome,
    StepOutcome,
)
from primevod.core.layout import chunk_prefix, package_prefix
from primevod.core.outputs import EncodePlan, PackageResult
from primevod.core.policies import asset_policy
from primevod.core.probe import ProbeResult
from primevod.core.progress import Progress
from primevod.observability import metrics
from primevod.pipeline import content_protection, costing, package_store, subtitle_sidecars
from primevod.pipeline.runtime import Runtime
from primevod.pipeline.step_runner import run_step
from primevod.pipeline.steps import PACKAGE, source_path, work_dir
from primevod.ports.object_store import FileBackedStore

AUDIO = "audio"
CHUNK = "chunk"
THUMBS = "thumbs"
DOWNLOAD_THREADS = 8


def _probe(rt: Runtime, asset_id: str) -> ProbeResult:
    return ProbeResult.model_validate(rt.catalog.get_asset(asset_id).probe or {})


class _CancelWatch:
    """A progress callback that turns a cancelled workflow into a cancel of the running
    FFmpeg (it asks at most every `interval` seconds)."""

    def __init__(self, cancelled: Callable[[], bool], interval: float = 1.0) -> None:
        self.cancelled = cancelled
        self.interval = interval
        self.event = threading.Event()
        self.last = 0.0

    def __call__(self, _: Progress) -> None:
        now = time.monotonic()
        if now - self.last >= self.interval:
            self.last = now
            if self.cancelled():
                self.event.set()


# -- plan -----------------------------------------------------------------------------------
def plan(rt: Runtime, asset_id: str, execution_id: str) -> StepOutcome:
    """The chunks of the title, or an outcome without a plan: encode it in one pass (short
    titles, chunking off, audio only, a source the chunk cuts cannot serve)."""
    asset = rt.catalog.get_asset(asset_id)
    seconds = chunk_length(rt.settings.chunk_seconds, asset.duration)
    if seconds is None:
        return PlanOutcome()
    probe = _probe(rt, asset_id)
    if probe.primary_video is None:
        return PlanOutcome()

    def body() -> PlanOutcome:
        started = time.time()
        rt.catalog.update_asset(
            asset_id, status=AssetStatus.PROCESSING, event_type="asset.processing"
        )
        source = source_path(rt, asset_id, execution_id)
        encode_plan = rt.media.plan(
            source,
            probe,
            asset_policy(asset.metadata, rt.settings.ladder, rt.settings.codecs),
            segment_seconds=rt.settings.segment_seconds,
            checksum=asset.checksum,
            analysis_cache=rt.settings.home / "cache" / "analysis",
        )
        if not encode_plan.ladder.rungs:
            return PlanOutcome(note="no video rungs: one pass")
        try:
            chunks = rt.media.plan_chunks(source, probe, encode_plan, seconds)
        except MediaError as exc:
            if exc.code != "request.invalid":
                raise
            return PlanOutcome(note=f"one pass: {exc.message}")
        note = f"{len(chunks)} chunks of {seconds:g} s"
        return PlanOutcome(plan=encode_plan, chunks=chunks, started_at=started, note=note)

    return run_step(rt.catalog, "plan", asset_id, execution_id, body)


# -- the queued parts: a chunk, the title's audio --------------------------------------------
def _scratch(rt: Runtime, asset_id: str, execution_id: str, name: str) -> Path:
    folder = work_dir(rt, asset_id, execution_id) / "chunks" / name
    shutil.rmtree(folder, ignore_errors=True)  # an earlier attempt's leftovers
    return folder


def _stored(rt: Runtime, asset_id: str, execution_id: str, path: Path, folder: str = "") -> str:
    """`path` stored as `<chunk prefix><folder><its name>`; the key."""
    key = chunk_prefix(asset_id, execution_id) + folder + path.name
    rt.store.put_file(rt.settings.destination_bucket, key, path, metadata={"asset-id": asset_id})
    return key


def _check_not_cancelled(rt: Runtime, cancelled: Callable[[], bool], keys: list[str]) -> None:
    """A step cancelled while it uploaded keeps nothing (the failure path may already have
    removed the chunk prefix)."""
    if cancelled():
        for key in keys:
            rt.store.delete(rt.settings.destination_bucket, key)
        raise MediaError("encode.cancelled", "cancelled on request")


def encode_chunk(
    rt: Runtime,
    asset_id: str,
    execution_id: str,
    encode_plan: EncodePlan,
    chunk: Chunk,
    cancelled: Callable[[], bool],
) -> StepOutcome:
    """One chunk to every rung (and its thumbnails), stored under the chunk prefix (recorded
    as step `chunk-<n>`; its spans and metrics are `chunk`'s, so their labels stay few)."""

    def body() -> ChunkOutcome:
        out = _scratch(rt, asset_id, execution_id, f"{chunk.index:05d}")
        watch = _CancelWatch(cancelled)
        try:
            encoded = rt.media.encode_chunk(
                source_path(rt, asset_id, execution_id),
                _probe(rt, asset_id),
                encode_plan,
                chunk,
                out,
                on_progress=watch,
                cancel=watch.event,
            )
            keys = [_stored(rt, asset_id, execution_id, Path(f)) for f in encoded.files]
            thumbs = sorted(Path(encoded.thumb_dir).iterdir()) if encoded.thumb_dir else []
            folder = f"{THUMBS}/{chunk.index:05d}/"
            thumb_keys = [_stored(rt, asset_id, execution_id, p, folder) for p in thumbs]
        finally:
            shutil.rmtree(out, ignore_errors=True)
        _check_not_cancelled(rt, cancelled, [*keys, *thumb_keys])
        return ChunkOutcome(
            index=chunk.index,
            keys=keys,
            thumb_keys=thumb_keys,
            frames=encoded.frames[0],
            seconds=encoded.seconds,
            cpu_seconds=encoded.cpu_seconds,
            worker=rt.settings.worker_id,
            note=f"{chunk.start:g}-{chunk.end:g} s on {rt.settings.worker_id} "
            f"in {encoded.seconds:.1f} s",
        )

    return run_step(
        rt.catalog,
        CHUNK,
        asset_id,
        execution_id,
        body,
        on_media_error=_cancel_is_final(CHUNK),
        record_as=f"{CHUNK}-{chunk.index}",
    )


def title_audio(
    rt: Runtime,
    asset_id: str,
    execution_id: str,
    encode_plan: EncodePlan,
    cancelled: Callable[[], bool],
) -> StepOutcome:
    """The whole title's audio renditions, stored under the chunk prefix."""

    def body() -> AudioOutcome:
        out = _scratch(rt, asset_id, execution_id, AUDIO)
        watch = _CancelWatch(cancelled)
        try:
            audio = rt.media.encode_title_audio(
                source_path(rt, asset_id, execution_id),
                _probe(rt, asset_id),
                encode_plan,
                out,
                cancel=watch.event,
            )
            key = _stored(rt, asset_id, execution_id, audio, f"{AUDIO}/") if audio else None
        finally:
            shutil.rmtree(out, ignore_errors=True)
        _check_not_cancelled(rt, cancelled, [key] if key else [])
        return AudioOutcome(audio_key=key)

    return run_step(
        rt.catalog, AUDIO, asset_id, execution_id, body, on_media_error=_cancel_is_final(AUDIO)
    )


def _cancel_is_final(step: str) -> Callable[[MediaError], StepOutcome | None]:
    """A permanent error or a cancel ends the asset; anything else is retried."""

    def mapping(exc: MediaError) -> StepOutcome | None:
        if exc.permanent or exc.code == "encode.cancelled":
            return StepOutcome.failure(exc.code, step, exc.message)
        return None

    return mapping


def record_progress(rt: Runtime, asset_id: str, done: int, total: int) -> None:
    """Chunks done so far, as the asset's progress (the encode is 95 % of it)."""
    progress = round(0.95 * done / total, 4) if total else 0.0
    activity = f"encoding in chunks: {done} of {total} done" if done < total else "stitching"
    rt.catalog.update_asset(asset_id, progress=progress, activity=activity)


# -- stitch ---------------------------------------------------------------------------------
class _Fetcher:
    """Stored chunk-prefix objects as files on this machine, downloaded in parallel into
    `spool` at their paths below the prefix; `in_place` reads the stored file itself on a
    file-backed store (the chunk files, never copied there)."""

    def __init__(self, rt: Runtime, prefix: str, spool: Path) -> None:
        self.rt, self.prefix, self.spool = rt, prefix, spool
        self.bucket = rt.settings.destination_bucket

    def one(self, key: str, *, in_place: bool = False) -> Path:
        if in_place and isinstance(self.rt.store, FileBackedStore):
            return self.rt.store.path_of(self.bucket, key)
        target = self.spool / key.removeprefix(self.prefix)
        self.rt.store.download(self.bucket, key, target)
        return target

    def many(self, keys: list[str], *, in_place: bool = False) -> list[Path]:
        with ThreadPoolExecutor(max_workers=DOWNLOAD_THREADS) as pool:
            return list(pool.map(lambda key: self.one(key, in_place=in_place), keys))


@dataclass(frozen=True)
class _Inputs:
    per_rung: list[list[Path]]
    audio: Path | None
    thumb_dirs: list[Path]


def _inputs(
    fetch: _Fetcher, rungs: int, chunks: list[ChunkOutcome], audio: AudioOutcome
) -> _Inputs:
    """Each rung's chunk files in title order, the title's audio and each chunk's thumbnail
    folder, as local files."""
    ordered = sorted(chunks, key=lambda c: c.index)
    if any(len(c.keys) != rungs for c in ordered):
        raise MediaError("encode.failed", "a chunk lacks a rung's file")
    files = fetch.many([c.keys[i] for i in range(rungs) for c in ordered], in_place=True)
    per_rung = [files[i * len(ordered) : (i + 1) * len(ordered)] for i in range(rungs)]
    thumbs = fetch.many([key for c in ordered for key in c.thumb_keys])
    thumb_dirs = sorted({p.parent for p in thumbs})  # thumbs/<chunk index, 5 digits>/
    return _Inputs(
        per_rung, fetch.one(audio.audio_key, in_place=True) if audio.audio_key else None, thumb_dirs
    )


def stitch(
    rt: Runtime,
    asset_id: str,
    execution_id: str,
    planned: PlanOutcome,
    chunks: list[ChunkOutcome],
    audio: AudioOutcome,
    cancelled: Callable[[], bool],
) -> StepOutcome:
    """Package the stored chunks, audio and thumbnails, validate, and stage the package as
    the single-pass `process` does; the outcome says where it is."""
    encode_plan = planned.plan
    if encode_plan is None:
        raise ValueError("stitch needs the plan of a chunked encode")

    def body() -> ProcessOutcome:
        started = time.monotonic()
        base = work_dir(rt, asset_id, execution_id)
        spool, out = base / "stitch-in", base / PACKAGE
        for stale in (spool, out):
            shutil.rmtree(stale, ignore_errors=True)
        prefix = chunk_prefix(asset_id, execution_id)
        try:
            local = _inputs(
                _Fetcher(rt, prefix, spool), len(encode_plan.ladder.rungs), chunks, audio
            )
            result = rt.media.package_chunks(
                local.per_rung,
                local.audio,
                local.thumb_dirs,
                _probe(rt, asset_id),
                encode_plan,
                out,
                # the source's text subtitles and the sidecars: packaged as transcode does
                source=source_path(rt, asset_id, execution_id),
                subtitles=subtitle_sidecars.fetch(
                    rt, rt.catalog.get_asset(asset_id).metadata, spool / "sidecars"
                ),
            )
            subtitle_sidecars.note_skipped(rt, asset_id, result.skipped_subtitles)
        finally:
            shutil.rmtree(spool, ignore_errors=True)
        bucket = rt.settings.destination_bucket
        result = content_protection.protect(rt, asset_id, result)  # encrypted HLS, if asked
        staged = package_store.stage(
            rt.store, result, bucket, package_prefix(asset_id, execution_id), asset_id
        )
        shutil.rmtree(result.output_dir, ignore_errors=True)
        if cancelled():  # cancelled while staging: nothing may keep what was uploaded
            rt.store.delete_prefix(bucket, staged.prefix)
            raise MediaError("encode.cancelled", "cancelled on request")
        rt.store.delete_prefix(bucket, prefix)  # packaged: the chunks go
        _record_stitched(
            rt, asset_id, execution_id, planned, chunks, result, time.monotonic() - started
        )
        return ProcessOutcome(package=staged)

    return run_step(
        rt.catalog,
        "stitch",
        asset_id,
        execution_id,
        body,
        on_media_error=_cancel_is_final("stitch"),
    )


def _record_stitched(
    rt: Runtime,
    asset_id: str,
    execution_id: str,
    planned: PlanOutcome,
    chunks: list[ChunkOutcome],
    result: PackageResult,
    stitch_seconds: float,
) -> None:
    """The ladder and the timings: `process` from the plan to now (wall time), `encode` the
    chunk encodes' seconds added up (compute), `stitch` the packaging."""
    process_seconds = time.time() - planned.started_at
    if process_seconds > 0 and result.duration:
        metrics.observe("primevod_encode_realtime_factor", result.duration / process_seconds)
    asset = rt.catalog.get_asset(asset_id)
    timings = {
        "process": round(process_seconds, 3),
        "encode": round(sum(c.seconds for c in chunks), 3),
        "stitch": round(stitch_seconds, 3),
        "chunks": len(chunks),
    }
    if result.auto:
        timings["analysis"] = result.analysis_seconds
    # the chunk encodes' CPU; the title's audio and the packaging (stream copy) are not counted
    costing.record_actual(rt, asset_id, execution_id, result, sum(c.cpu_seconds for c in chunks))
    rt.catalog.update_asset(
        asset_id,
        ladder=result.ladder.model_dump(mode="json"),
        progress=0.95,
        activity=None,
        timings={**asset.timings, **timings},
    )


def drop_chunks(rt: Runtime, asset_id: str, execution_id: str) -> None:
    """Remove what a chunked execution stored for its stitch (failed, cancelled)."""
    rt.store.delete_prefix(rt.settings.destination_bucket, chunk_prefix(asset_id, execution_id))
