"""Packages in the object store: `stage` uploads a finished package under its execution's
prefix (segments, playlists and thumbnails in parallel, the manifests last), `local_copy`
gives any worker the package as files again (in place on a file-backed store)."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path

from primevod.core.execution import StagedPackage
from primevod.core.layout import relative_to_package
from primevod.core.outputs import PackageResult
from primevod.ports.object_store import FileBackedStore, ObjectStore

UPLOAD_THREADS = 8


def stage(
    store: ObjectStore, result: PackageResult, bucket: str, prefix: str, asset_id: str
) -> StagedPackage:
    """Upload the package in `result.output_dir`; a crash midway leaves objects nobody
    references, which the retry overwrites (same prefix) or the failure path removes."""
    root = Path(result.output_dir)
    files = sorted(p for p in root.rglob("*") if p.is_file())
    manifests = {result.master, *([result.manifest] if result.manifest else [])}

    def upload(path: Path) -> None:
        relative = path.relative_to(root).as_posix()
        store.put_file(bucket, prefix + relative, path, metadata={"asset-id": asset_id})

    # round trips and fsyncs overlap; players only find the package through its manifests,
    # so those go once everything they reference is in place
    with ThreadPoolExecutor(max_workers=UPLOAD_THREADS) as pool:
        rest = [p for p in files if p.relative_to(root).as_posix() not in manifests]
        list(pool.map(upload, rest))
    for name in sorted(manifests):
        upload(root / name)
    return StagedPackage(bucket=bucket, prefix=prefix, result=result)


def drop_unpublished(store: ObjectStore, bucket: str, prefix: str, live_prefix: str | None) -> None:
    """Remove a package an execution staged unless the catalog points at it (a failed or
    cancelled execution's package is referenced by nothing)."""
    if live_prefix != prefix:
        store.delete_prefix(bucket, prefix)


@contextmanager
def local_copy(store: ObjectStore, staged: StagedPackage, spool: Path) -> Iterator[PackageResult]:
    """The staged package's result with `output_dir` pointing at files of it on this
    machine: the stored files themselves on a file-backed store, else a download into a
    temporary folder under `spool` (removed after)."""
    if isinstance(store, FileBackedStore):
        folder = store.path_of(staged.bucket, staged.key(staged.result.master)).parent
        yield staged.result.model_copy(update={"output_dir": str(folder)})
        return
    spool.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=spool, prefix="package-") as tmp:
        for obj in store.list(staged.bucket, staged.prefix):
            target = Path(tmp) / relative_to_package(obj.key, staged.prefix)
            target.parent.mkdir(parents=True, exist_ok=True)
            store.download(staged.bucket, obj.key, target)
        yield staged.result.model_copy(update={"output_dir": tmp})
