"""Buckets as folders. Objects are plain files at their key's path (so a package on disk is
browsable as it is), with a JSON sidecar per object for content type, ETag, user metadata,
tags, storage class and version. Every write goes to a temporary file on the same file
system and is renamed into place, so a reader never sees half an object and a crash never
leaves one.

Storage classes are tiers: an object in STANDARD lives under `buckets/<bucket>/<key>`, an
object moved to another class under `tiers/<CLASS>/<bucket>/<key>` (a rename: the bytes, the
sidecar and the object's age stay the same). Reads find an object in whichever tier it is;
every class reads at once (there is no restore step, unlike S3's archive classes)."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import threading
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import BinaryIO

from primevod.adapters.storage.local_files import CHUNK, utc_now
from primevod.adapters.storage.local_multipart import LocalMultipartUploads
from primevod.adapters.storage.local_tiers import STANDARD, LocalTiers
from primevod.core.storage import (
    MIN_PART_SIZE,
    InvalidKey,
    ObjectInfo,
    ObjectNotFound,
    guess_type,
    validate_bucket,
    validate_key,
    validate_prefix,
)


class LocalObjectStore(LocalMultipartUploads, LocalTiers):
    """`root/buckets/<bucket>/<key>`; colder classes in `root/tiers/<CLASS>/<bucket>/<key>`;
    sidecars, versions, uploads and temp files beside. Multipart uploads come from
    LocalMultipartUploads; storage classes, tags and old versions from LocalTiers."""

    def __init__(self, root: Path, *, min_part_size: int = MIN_PART_SIZE) -> None:
        self.root = Path(root).absolute()
        self.min_part_size = min_part_size
        self._lock = threading.Lock()
        for sub in ("buckets", "meta", "versions", "uploads", "tmp"):
            (self.root / sub).mkdir(parents=True, exist_ok=True)

    # paths -----------------------------------------------------------------------------
    def _bucket_dir(self, bucket: str) -> Path:
        return self.root / "buckets" / validate_bucket(bucket)

    def _object_path(self, bucket: str, key: str) -> Path:
        base = self._bucket_dir(bucket)
        path = base / validate_key(key)
        resolved = path.resolve()
        if not resolved.is_relative_to(base.resolve()):
            raise InvalidKey(f"object key {key!r} escapes the bucket")
        return path

    def _meta_path(self, bucket: str, key: str) -> Path:
        return self.root / "meta" / validate_bucket(bucket) / f"{validate_key(key)}.json"

    def _tmp(self) -> Path:
        return self.root / "tmp" / f"{uuid.uuid4().hex}.part"

    def _write_meta(self, bucket: str, key: str, info: ObjectInfo) -> None:
        meta = self._meta_path(bucket, key)
        meta.parent.mkdir(parents=True, exist_ok=True)
        meta_tmp = self._tmp()
        meta_tmp.write_text(info.model_dump_json())
        os.replace(meta_tmp, meta)

    # buckets ---------------------------------------------------------------------------
    def ensure_bucket(self, bucket: str, *, versioning: bool = False) -> None:
        self._bucket_dir(bucket).mkdir(parents=True, exist_ok=True)
        flag = self.root / "meta" / validate_bucket(bucket) / ".versioning"
        flag.parent.mkdir(parents=True, exist_ok=True)
        if versioning and not flag.exists():
            flag.touch()

    def _versioned(self, bucket: str) -> bool:
        return (self.root / "meta" / bucket / ".versioning").exists()

    # writes ----------------------------------------------------------------------------
    def put(
        self,
        bucket: str,
        key: str,
        data: bytes | BinaryIO,
        *,
        content_type: str | None = None,
        metadata: dict[str, str] | None = None,
    ) -> ObjectInfo:
        target = self._object_path(bucket, key)
        tmp = self._tmp()
        md5 = hashlib.md5()
        size = 0
        try:
            with open(tmp, "wb") as out:
                if isinstance(data, bytes | bytearray | memoryview):
                    out.write(data)
                    md5.update(data)
                    size = len(data)
                else:
                    while chunk := data.read(CHUNK):
                        out.write(chunk)
                        md5.update(chunk)
                        size += len(chunk)
                out.flush()
                os.fsync(out.fileno())
            return self._commit(
                bucket, key, target, tmp, size, f'"{md5.hexdigest()}"', content_type, metadata
            )
        finally:
            tmp.unlink(missing_ok=True)

    def put_file(
        self,
        bucket: str,
        key: str,
        path: Path,
        *,
        content_type: str | None = None,
        metadata: dict[str, str] | None = None,
    ) -> ObjectInfo:
        with open(path, "rb") as src:
            return self.put(
                bucket, key, src, content_type=content_type or guess_type(key), metadata=metadata
            )

    def _commit(
        self,
        bucket: str,
        key: str,
        target: Path,
        tmp: Path,
        size: int,
        etag: str,
        content_type: str | None,
        metadata: dict[str, str] | None,
    ) -> ObjectInfo:
        self._bucket_dir(bucket).mkdir(parents=True, exist_ok=True)
        info = ObjectInfo(
            bucket=bucket,
            key=key,
            size=size,
            etag=etag,
            content_type=content_type or guess_type(key),
            metadata={str(k).lower(): str(v) for k, v in (metadata or {}).items()},
            last_modified=utc_now(),
            version_id=uuid.uuid4().hex if self._versioned(bucket) else None,
        )
        with self._lock:
            for _, folder in self._tier_dirs(bucket):
                self._check_no_conflict(key, folder)
            target.parent.mkdir(parents=True, exist_ok=True)
            previous = self._locate(bucket, key)
            if info.version_id and previous:
                self._keep_version(bucket, key, previous[1])
            os.replace(tmp, target)
            if previous and previous[0] != STANDARD:  # a new object starts in STANDARD
                previous[1].unlink(missing_ok=True)
                self._prune(self._tier_dir(previous[0], bucket), previous[1].parent)
            self._write_meta(bucket, key, info)
        return info

    @staticmethod
    def _check_no_conflict(key: str, base: Path) -> None:
        """On a file system `a` and `a/b` cannot both be objects; S3 allows it, we refuse
        (in every tier: an object keeps its key when it changes class)."""
        target = base / key
        if target.is_dir():
            raise InvalidKey(f"object key {key!r} is a prefix of other objects")
        parent = target.parent
        while parent != base:
            if parent.is_file():
                raise InvalidKey(f"object key {key!r} is under an existing object")
            parent = parent.parent

    def _keep_version(self, bucket: str, key: str, current: Path, *, move: bool = False) -> None:
        """The current object becomes a noncurrent version (moved when it is being deleted,
        else copied, so readers never miss it), noting since when for the lifecycle rules."""
        old = self.head(bucket, key)
        vdir = self.root / "versions" / bucket / key
        vdir.mkdir(parents=True, exist_ok=True)
        version = old.version_id or "null"
        if move:
            os.replace(current, vdir / version)
        else:
            shutil.copy2(current, vdir / version)
        record = {**old.model_dump(mode="json"), "noncurrent_since": utc_now().isoformat()}
        (vdir / f"{version}.json").write_text(json.dumps(record))

    # reads -----------------------------------------------------------------------------
    def head(self, bucket: str, key: str) -> ObjectInfo:
        found = self._locate(bucket, key)
        if found is None:
            raise ObjectNotFound(f"no object {bucket}/{key}")
        storage_class, path = found
        meta = self._meta_path(bucket, key)
        try:
            info = ObjectInfo.model_validate_json(meta.read_text())
        except (OSError, ValueError):
            # a file put in place by hand: describe it from the file itself
            md5 = hashlib.md5()
            with open(path, "rb") as src:
                while chunk := src.read(CHUNK):
                    md5.update(chunk)
            stat = path.stat()
            return ObjectInfo(
                bucket=bucket,
                key=key,
                size=stat.st_size,
                etag=f'"{md5.hexdigest()}"',
                content_type=guess_type(key),
                last_modified=datetime.fromtimestamp(stat.st_mtime, UTC),
                storage_class=storage_class,
            )
        # where the file is decides (a crash between a move and its sidecar changes nothing)
        if info.storage_class != storage_class:
            info = info.model_copy(update={"storage_class": storage_class})
        return info

    def exists(self, bucket: str, key: str) -> bool:
        return self._locate(bucket, key) is not None

    def make_folder(self, bucket: str, prefix: str) -> None:
        """A prefix as an (empty) folder users can drop files into (local store only)."""
        self._object_path(bucket, prefix.rstrip("/") + "/_").parent.mkdir(
            parents=True, exist_ok=True
        )

    def path_of(self, bucket: str, key: str) -> Path:
        """The file behind an object (local store only: lets the edge stream it)."""
        found = self._locate(bucket, key)
        if found is None:
            raise ObjectNotFound(f"no object {bucket}/{key}")
        return found[1]

    def get(self, bucket: str, key: str) -> bytes:
        return self.path_of(bucket, key).read_bytes()

    def get_range(self, bucket: str, key: str, start: int, end: int) -> bytes:
        with open(self.path_of(bucket, key), "rb") as src:
            src.seek(start)
            return src.read(max(0, end - start + 1))

    def download(self, bucket: str, key: str, path: Path) -> ObjectInfo:
        info = self.head(bucket, key)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex[:8]}.tmp")
        shutil.copyfile(self.path_of(bucket, key), tmp)
        os.replace(tmp, path)
        return info

    def list(self, bucket: str, prefix: str = "") -> Iterator[ObjectInfo]:
        validate_prefix(prefix)
        keys: set[str] = set()
        for _, base in self._tier_dirs(bucket):
            start = base / prefix.rsplit("/", 1)[0] if "/" in prefix else base
            if not start.is_dir():
                continue
            for dirpath, _dirs, files in os.walk(start):
                for name in files:
                    key = (Path(dirpath) / name).relative_to(base).as_posix()
                    if key.startswith(prefix):
                        keys.add(key)
        for key in sorted(keys):
            try:
                yield self.head(bucket, key)
            except ObjectNotFound:
                continue  # deleted while listing

    def list_versions(self, bucket: str, key: str) -> list[ObjectInfo]:
        vdir = self.root / "versions" / validate_bucket(bucket) / validate_key(key)
        old = [ObjectInfo.model_validate_json(p.read_text()) for p in vdir.glob("*.json")]
        current = [self.head(bucket, key)] if self.exists(bucket, key) else []
        return current + sorted(old, key=lambda o: o.last_modified, reverse=True)

    def delete(self, bucket: str, key: str) -> None:
        with self._lock:
            found = self._locate(bucket, key)
            if found is not None:
                storage_class, path = found
                if self._versioned(bucket):  # S3: the object becomes a noncurrent version
                    self._keep_version(bucket, key, path, move=True)
                path.unlink(missing_ok=True)
                self._prune(self._tier_dir(storage_class, bucket), path.parent)
            meta = self._meta_path(bucket, key)
            meta.unlink(missing_ok=True)
            self._prune(self.root / "meta" / bucket, meta.parent)

    def delete_prefix(self, bucket: str, prefix: str) -> int:
        count = 0
        for info in list(self.list(bucket, prefix)):
            self.delete(bucket, info.key)
            count += 1
        return count

    @staticmethod
    def _prune(base: Path, folder: Path) -> None:
        while folder != base and folder.is_relative_to(base):
            try:
                folder.rmdir()
            except OSError:
                return
            folder = folder.parent
