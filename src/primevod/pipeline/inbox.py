"""The S3-event trigger of the seed: a file dropped under the source bucket's `inbox/` prefix
becomes an asset and starts its workflow. Polls the store; a file is taken once its size and
ETag held still for one poll (so a slow copy is never taken half-written). Every step is
idempotent: the asset id derives from the object's key, ETag and time of writing, so a crash
between steps repeats them harmlessly (an asset whose workflow never started gets it on the
next pass), while the same file dropped again later is a new asset."""

from __future__ import annotations

import logging
import tempfile
import threading
from pathlib import Path, PurePosixPath

from primevod.adapters.catalog.sql_catalog import NotFound
from primevod.core.layout import new_asset_id, source_key
from primevod.pipeline import workflows
from primevod.pipeline.assets import create_asset
from primevod.pipeline.runtime import Runtime
from primevod.ports.object_store import FolderStore, in_place_path

log = logging.getLogger("primevod.inbox")


def _keep_folder(rt: Runtime) -> None:
    """Local buckets: the drop folder stays for users to find, also once emptied."""
    if isinstance(rt.store, FolderStore):
        rt.store.make_folder(rt.settings.source_bucket, rt.settings.inbox_prefix)


class InboxWatcher:
    def __init__(self, rt: Runtime, poll_seconds: float | None = None) -> None:
        self.rt = rt
        self.poll_seconds = poll_seconds or rt.settings.inbox_poll_seconds
        self._seen: dict[str, tuple[int, str]] = {}
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        _keep_folder(rt)

    def scan(self) -> list[str]:
        """One pass; returns the ids of assets started."""
        rt = self.rt
        bucket, prefix = rt.settings.source_bucket, rt.settings.inbox_prefix
        started = []
        current: dict[str, tuple[int, str]] = {}
        for obj in rt.store.list(bucket, prefix):
            current[obj.key] = (obj.size, obj.etag)
            if self._seen.get(obj.key) != current[obj.key]:
                continue  # new or still changing: look again next pass
            started.append(self._take(obj.key, obj.etag, obj.last_modified.isoformat()))
            del current[obj.key]  # taken: a file dropped there again is looked at afresh
        self._seen = current
        return started

    def _take(self, key: str, etag: str, written: str) -> str:
        rt = self.rt
        bucket = rt.settings.source_bucket
        asset_id = new_asset_id(seed=f"{bucket}/{key}/{etag}/{written}")
        name = PurePosixPath(key).name
        target = source_key(asset_id, name)
        if not rt.store.exists(bucket, target):
            info = rt.store.head(bucket, key)
            meta = {"content_type": info.content_type, "metadata": info.metadata}
            dropped = in_place_path(rt.store, bucket, key)
            if dropped is not None:  # copy the stored file itself (sealed on the way in)
                rt.store.put_file(bucket, target, dropped, **meta)
            else:  # through a file: a video is never held in memory
                spool = rt.settings.home / "tmp"
                spool.mkdir(parents=True, exist_ok=True)
                with tempfile.TemporaryDirectory(dir=spool) as tmp:
                    local = Path(tmp) / "source"
                    rt.store.download(bucket, key, local)
                    rt.store.put_file(bucket, target, local, **meta)
        try:
            asset = rt.catalog.get_asset(asset_id)
        except NotFound:
            asset = create_asset(
                rt.catalog,
                asset_id=asset_id,
                source_bucket=bucket,
                source_key=target,
                metadata={"inbox_key": key},
            )
        if asset.execution_id is None:  # never started (or a crash came before it was)
            workflows.start(rt, asset_id, attempt=1)
        rt.store.delete(bucket, key)
        _keep_folder(rt)
        log.info("inbox %s -> asset %s", key, asset_id)
        return asset_id

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self.scan()
            except Exception:
                log.exception("inbox scan failed")
            self._stop.wait(self.poll_seconds)

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="inbox", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread:
            self._thread.join(timeout=5)
