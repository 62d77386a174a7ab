"""Multipart uploads for the local object store. Parts wait in
`root/uploads/<bucket>/<upload id>/` beside an `upload.json` record until the upload is
completed (parts joined into one object) or aborted (the folder removed)."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import uuid
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from primevod.adapters.storage.local_files import CHUNK, utc_now
from primevod.core.storage import (
    MAX_PARTS,
    InvalidPart,
    ObjectInfo,
    PartInfo,
    UploadInfo,
    UploadNotFound,
    guess_type,
    multipart_etag,
    validate_bucket,
)


class LocalMultipartUploads:
    """The multipart half of LocalObjectStore, which supplies the root folder, the minimum
    part size, key validation, temporary files and the final commit of the joined object."""

    root: Path
    min_part_size: int

    if TYPE_CHECKING:

        def _tmp(self) -> Path: ...

        def _object_path(self, bucket: str, key: str) -> Path: ...

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
        ) -> ObjectInfo: ...

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
                    "initiated": utc_now().isoformat(),
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
            while chunk := src.read(CHUNK):
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
                        shutil.copyfileobj(src, out, 8 * CHUNK)  # kernel copy on Linux
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
