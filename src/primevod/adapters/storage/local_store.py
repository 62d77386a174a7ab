"""Buckets as folders. Objects are plain files at their key's path (so a package on disk is
browsable as it is), with a JSON sidecar per object for content type, ETag, user metadata and
version. Every write goes to a temporary file on the same file system and is renamed into
place, so a reader never sees half an object and a crash never leaves one."""

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

from primevod.core.storage import (
    MAX_PARTS,
    MIN_PART_SIZE,
    InvalidKey,
    InvalidPart,
    ObjectInfo,
    ObjectNotFound,
    PartInfo,
    UploadInfo,
    UploadNotFound,
    guess_type,
    multipart_etag,
    validate_bucket,
    validate_key,
    validate_prefix,
)

_CHUNK = 1024 * 1024


def _now() -> datetime:
    return datetime.now(UTC)


class LocalObjectStore:
    """`root/buckets/<bucket>/<key>`; sidecars, versions, uploads and temp files beside."""

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

    # buckets ---------------------------------------------------------------------------
    def ensure_bucket(self, bucket: str, *, versioning: bool = False) -> None:
        self._bucket_dir(bucket).mkdir(parents=True, exist_ok=True)
        flag = self.root / "meta" / validate_bucket(bucket) / ".versioning"
        flag.parent.mkdir(parents=True, exist_ok=True)
        if versioning:
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
                    while chunk := data.read(_CHUNK):
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
            last_modified=_now(),
            version_id=uuid.uuid4().hex if self._versioned(bucket) else None,
        )
        meta = self._meta_path(bucket, key)
        with self._lock:
            self._check_no_conflict(bucket, key, target)
            target.parent.mkdir(parents=True, exist_ok=True)
            meta.parent.mkdir(parents=True, exist_ok=True)
            if info.version_id and target.exists():
                self._keep_version(bucket, key, target)
            os.replace(tmp, target)
            meta_tmp = self._tmp()
            meta_tmp.write_text(info.model_dump_json())
            os.replace(meta_tmp, meta)
        return info

    def _check_no_conflict(self, bucket: str, key: str, target: Path) -> None:
        """On a file system `a` and `a/b` cannot both be objects; S3 allows it, we refuse."""
        if target.is_dir():
            raise InvalidKey(f"object key {key!r} is a prefix of other objects")
        base = self._bucket_dir(bucket)
        parent = target.parent
        while parent != base:
            if parent.is_file():
                raise InvalidKey(f"object key {key!r} is under an existing object")
            parent = parent.parent

    def _keep_version(self, bucket: str, key: str, target: Path) -> None:
        old = self.head(bucket, key)
        vdir = self.root / "versions" / bucket / key
        vdir.mkdir(parents=True, exist_ok=True)
        version = old.version_id or "null"
        shutil.copy2(target, vdir / version)
        (vdir / f"{version}.json").write_text(old.model_dump_json())

    # reads -----------------------------------------------------------------------------
    def head(self, bucket: str, key: str) -> ObjectInfo:
        path = self._object_path(bucket, key)
        if not path.is_file():
            raise ObjectNotFound(f"no object {bucket}/{key}")
        meta = self._meta_path(bucket, key)
        try:
            return ObjectInfo.model_validate_json(meta.read_text())
        except (OSError, ValueError):
            # a file put in place by hand: describe it from the file itself
            md5 = hashlib.md5()
            with open(path, "rb") as src:
                while chunk := src.read(_CHUNK):
                    md5.update(chunk)
            stat = path.stat()
            return ObjectInfo(
                bucket=bucket,
                key=key,
                size=stat.st_size,
                etag=f'"{md5.hexdigest()}"',
                content_type=guess_type(key),
                last_modified=datetime.fromtimestamp(stat.st_mtime, UTC),
            )

    def exists(self, bucket: str, key: str) -> bool:
        return self._object_path(bucket, key).is_file()

    def make_folder(self, bucket: str, prefix: str) -> None:
        """A prefix as an (empty) folder users can drop files into (local store only)."""
        self._object_path(bucket, prefix.rstrip("/") + "/_").parent.mkdir(
            parents=True, exist_ok=True
        )

    def path_of(self, bucket: str, key: str) -> Path:
        """The file behind an object (local store only: lets the edge stream it)."""
        path = self._object_path(bucket, key)
        if not path.is_file():
            raise ObjectNotFound(f"no object {bucket}/{key}")
        return path

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
        base = self._bucket_dir(bucket)
        if not base.is_dir():
            return
        start = base / prefix.rsplit("/", 1)[0] if "/" in prefix else base
        if not start.is_dir():
            return
        keys = []
        for dirpath, _dirs, files in os.walk(start):
            for name in files:
                key = (Path(dirpath) / name).relative_to(base).as_posix()
                if key.startswith(prefix):
                    keys.append(key)
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
        path = self._object_path(bucket, key)
        with self._lock:
            if path.is_file() and self._versioned(bucket):
                self._keep_version(bucket, key, path)
            path.unlink(missing_ok=True)
            self._meta_path(bucket, key).unlink(missing_ok=True)
            self._prune(self._bucket_dir(bucket), path.parent)

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

    # multipart -------------------------------------------------------------------------
    def _upload_dir(self, bucket: str, key: str, upload_id: str) -> Path:
        if not upload_id.isalnum():
            raise UploadNotFound(f"no upload {upload_id!r}")
        folder = self.root / "uploads" / validate_bucket(bucket) / upload_id
        try:
            record = json.loads((folder / "upload.json").read_text())
        except (OSError, ValueError):
            raise UploadNotFound(f"no upload {upload_id!r}") from None
        if record["key"] != key:
            raise UploadNotFound(f"upload {upload_id!r} is not for key {key!r}")
        return folder

    def create_multipart(
        self,
        bucket: str,
        key: str,
        *,
        content_type: str | None = None,
        metadata: dict[str, str] | None = None,
    ) -> str:
        self._object_path(bucket, key)  # validates
        upload_id = uuid.uuid4().hex
        folder = self.root / "uploads" / bucket / upload_id
        folder.mkdir(parents=True)
        (folder / "upload.json").write_text(
            json.dumps(
                {
                    "key": key,
                    "content_type": content_type or guess_type(key),
                    "metadata": metadata or {},
                    "initiated": _now().isoformat(),
                }
            )
        )
        return upload_id

    def upload_part(
        self, bucket: str, key: str, upload_id: str, part_number: int, data: bytes
    ) -> PartInfo:
        if not 1 <= part_number <= MAX_PARTS:
            raise InvalidPart(f"part number {part_number} is not in 1..{MAX_PARTS}")
        folder = self._upload_dir(bucket, key, upload_id)
        digest = hashlib.md5(data).hexdigest()
        tmp = self._tmp()
        tmp.write_bytes(data)
        # the digest beside the part: listing and completing need not read the bytes again
        # (written first; a part whose digest file is stale is re-hashed on use)
        (folder / f"part-{part_number:05d}.md5").write_text(f"{digest} {len(data)}")
        os.replace(tmp, folder / f"part-{part_number:05d}")
        return PartInfo(part_number=part_number, etag=f'"{digest}"', size=len(data))

    @staticmethod
    def _part_digest(path: Path) -> bytes:
        size = path.stat().st_size
        try:
            digest, recorded = (path.parent / f"{path.name}.md5").read_text().split()
            if int(recorded) == size:
                return bytes.fromhex(digest)
        except (OSError, ValueError):
            pass
        md5 = hashlib.md5()
        with open(path, "rb") as src:
            while chunk := src.read(_CHUNK):
                md5.update(chunk)
        return md5.digest()

    def list_parts(self, bucket: str, key: str, upload_id: str) -> list[PartInfo]:
        folder = self._upload_dir(bucket, key, upload_id)
        parts = []
        for path in sorted(folder.glob("part-[0-9][0-9][0-9][0-9][0-9]")):
            parts.append(
                PartInfo(
                    part_number=int(path.name[5:]),
                    etag=f'"{self._part_digest(path).hex()}"',
                    size=path.stat().st_size,
                )
            )
        return parts

    def complete_multipart(
        self, bucket: str, key: str, upload_id: str, parts: list[tuple[int, str]]
    ) -> ObjectInfo:
        folder = self._upload_dir(bucket, key, upload_id)
        record = json.loads((folder / "upload.json").read_text())
        if not parts:
            raise InvalidPart("a multipart upload needs at least one part")
        numbers = [n for n, _ in parts]
        if numbers != sorted(numbers) or len(set(numbers)) != len(numbers):
            raise InvalidPart("parts must be listed in ascending order, each once")
        md5s: list[bytes] = []
        paths: list[Path] = []
        size = 0
        # check every part before writing a byte
        for index, (number, etag) in enumerate(parts):
            path = folder / f"part-{number:05d}"
            if not path.is_file():
                raise InvalidPart(f"part {number} was not uploaded")
            digest = self._part_digest(path)
            if etag.strip('"') != digest.hex():
                raise InvalidPart(f"part {number}: ETag {etag} does not match")
            part_size = path.stat().st_size
            if index < len(parts) - 1 and part_size < self.min_part_size:
                raise InvalidPart(
                    f"part {number} is {part_size} bytes; every part but the last "
                    f"must be at least {self.min_part_size} bytes"
                )
            md5s.append(digest)
            paths.append(path)
            size += part_size
        tmp = self._tmp()
        try:
            with open(tmp, "wb") as out:
                for path in paths:
                    with open(path, "rb") as src:
                        shutil.copyfileobj(src, out, 8 * _CHUNK)  # kernel copy on Linux
                out.flush()
                os.fsync(out.fileno())
            info = self._commit(
                bucket,
                key,
                self._object_path(bucket, key),
                tmp,
                size,
                multipart_etag(md5s),
                record["content_type"],
                record["metadata"],
            )
        finally:
            tmp.unlink(missing_ok=True)
        shutil.rmtree(folder, ignore_errors=True)
        return info

    def abort_multipart(self, bucket: str, key: str, upload_id: str) -> None:
        shutil.rmtree(self._upload_dir(bucket, key, upload_id), ignore_errors=True)

    def list_multipart_uploads(self, bucket: str) -> list[UploadInfo]:
        out = []
        for folder in sorted((self.root / "uploads" / validate_bucket(bucket)).glob("*")):
            try:
                record = json.loads((folder / "upload.json").read_text())
            except (OSError, ValueError):
                continue
            out.append(
                UploadInfo(
                    bucket=bucket,
                    key=record["key"],
                    upload_id=folder.name,
                    initiated=datetime.fromisoformat(record["initiated"]),
                )
            )
        return out
