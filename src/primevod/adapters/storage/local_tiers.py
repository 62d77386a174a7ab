"""Storage classes, tags and old versions for the local object store (what the local
lifecycle engine needs: ports.object_store.LifecycleStore). A class other than STANDARD is
a tier, `root/tiers/<CLASS>/<bucket>/<key>`: changing an object's class renames its file
there, keeping its bytes, sidecar and age; reads find an object in whichever tier holds it.
Old versions wait in `root/versions/<bucket>/<key>/<version>` beside a JSON record that
notes since when they are noncurrent."""

from __future__ import annotations

import json
import os
import threading
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from primevod.core.lifecycle import STORAGE_CLASSES
from primevod.core.storage import (
    InvalidKey,
    NoncurrentVersion,
    ObjectInfo,
    ObjectNotFound,
    validate_bucket,
    validate_key,
)

STANDARD = "STANDARD"
MAX_TAGS = 10  # S3's limit per object


class LocalTiers:
    """The tier half of LocalObjectStore, which supplies the root folder, its lock, key
    validation, head(), sidecar writes and the conflict and pruning rules of folders."""

    root: Path
    _lock: threading.Lock

    if TYPE_CHECKING:

        def _bucket_dir(self, bucket: str) -> Path: ...

        def _object_path(self, bucket: str, key: str) -> Path: ...

        def _write_meta(self, bucket: str, key: str, info: ObjectInfo) -> None: ...

        def head(self, bucket: str, key: str) -> ObjectInfo: ...

        @staticmethod
        def _check_no_conflict(key: str, base: Path) -> None: ...

        @staticmethod
        def _prune(base: Path, folder: Path) -> None: ...

    def _tier_dir(self, storage_class: str, bucket: str) -> Path:
        """Where a bucket's objects of one storage class live."""
        if storage_class == STANDARD:
            return self._bucket_dir(bucket)
        if storage_class not in STORAGE_CLASSES:
            raise InvalidKey(f"unknown storage class {storage_class!r}")
        return self.root / "tiers" / storage_class / validate_bucket(bucket)

    def _tier_dirs(self, bucket: str) -> list[tuple[str, Path]]:
        """(class, folder) of every tier that holds this bucket, STANDARD first."""
        found = [(STANDARD, self._bucket_dir(bucket))]
        if (self.root / "tiers").is_dir():
            for storage_class in STORAGE_CLASSES[1:]:
                folder = self._tier_dir(storage_class, bucket)
                if folder.is_dir():
                    found.append((storage_class, folder))
        return found

    def _locate(self, bucket: str, key: str) -> tuple[str, Path] | None:
        """The object's class and file, whichever tier holds it (None: no such object)."""
        path = self._object_path(bucket, key)  # validates the key
        if path.is_file():
            return STANDARD, path
        for storage_class, folder in self._tier_dirs(bucket)[1:]:
            if (folder / key).is_file():
                return storage_class, folder / key
        return None

    def set_storage_class(self, bucket: str, key: str, storage_class: str) -> ObjectInfo:
        target_dir = self._tier_dir(storage_class, bucket)  # refuses an unknown class
        with self._lock:
            found = self._locate(bucket, key)
            if found is None:
                raise ObjectNotFound(f"no object {bucket}/{key}")
            current, path = found
            info = self.head(bucket, key)
            if current != storage_class:
                self._check_no_conflict(key, target_dir)
                (target_dir / key).parent.mkdir(parents=True, exist_ok=True)
                os.replace(path, target_dir / key)
                self._prune(self._tier_dir(current, bucket), path.parent)
            info = info.model_copy(update={"storage_class": storage_class})
            self._write_meta(bucket, key, info)
        return info

    def set_tags(self, bucket: str, key: str, tags: dict[str, str]) -> ObjectInfo:
        if len(tags) > MAX_TAGS:
            raise InvalidKey(f"at most {MAX_TAGS} tags per object")
        for name, value in tags.items():
            if not 1 <= len(name) <= 128 or len(value) > 256:
                raise InvalidKey(f"tag {name!r}: keys of 1 to 128, values of 0 to 256 chars")
        with self._lock:
            info = self.head(bucket, key).model_copy(update={"tags": dict(tags)})
            self._write_meta(bucket, key, info)
        return info

    def noncurrent_versions(self, bucket: str) -> list[NoncurrentVersion]:
        base = self.root / "versions" / validate_bucket(bucket)
        found = []
        for record in sorted(base.rglob("*.json")):
            data = record.with_suffix("")
            if not record.is_file() or not data.is_file():
                continue
            try:
                raw = json.loads(record.read_text())
                info = ObjectInfo.model_validate(raw)
            except (OSError, ValueError):
                continue
            since = raw.get("noncurrent_since")
            found.append(
                NoncurrentVersion(
                    info=info.model_copy(
                        update={
                            "key": record.parent.relative_to(base).as_posix(),
                            "version_id": data.name,
                        }
                    ),
                    # versions kept before this was recorded: when the record was written
                    noncurrent_since=datetime.fromisoformat(since)
                    if since
                    else datetime.fromtimestamp(record.stat().st_mtime, UTC),
                )
            )
        return found

    def delete_version(self, bucket: str, key: str, version_id: str) -> None:
        base = self.root / "versions" / validate_bucket(bucket)
        vdir = base / validate_key(key)
        if not version_id.isalnum() or not (vdir / version_id).is_file():
            raise ObjectNotFound(f"no version {version_id!r} of {bucket}/{key}")
        with self._lock:
            (vdir / version_id).unlink(missing_ok=True)
            (vdir / f"{version_id}.json").unlink(missing_ok=True)
            self._prune(base, vdir)
