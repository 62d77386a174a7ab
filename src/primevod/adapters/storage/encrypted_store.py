"""Encryption at rest for chosen buckets: an ObjectStore wrapper that seals objects with the
envelope (adapters/crypto/envelope.py) on their way into the inner store and opens them on
their way out, streaming a chunk at a time. Other buckets pass straight through.

- put/put_file seal while the inner store reads (no plaintext is written, no whole-object
  buffer); upload_part seals each part as its own segment, so complete_multipart's joined
  file is a readable sealed object, and parts wait on disk sealed.
- Sealed objects carry the metadata flag `x-primevod-sealed`; head/list report their
  plaintext size (from the segment headers) and hide the flag. Objects without the flag
  (files dropped into a local folder by hand, objects stored before encryption was turned
  on) are read as they are.
- path_of refuses a sealed object: callers (ports.object_store.in_place_path) then read
  through the store. ETags are the inner store's, over the sealed bytes: they identify a
  version of an object, they are no MD5 of its plaintext.
- Deleting a plaintext object from a sealed bucket also removes the noncurrent version the
  inner store keeps of it (a dropped file must not stay on disk in the clear)."""

from __future__ import annotations

import contextlib
import os
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

from primevod.adapters.crypto import envelope
from primevod.core.storage import (
    NoncurrentVersion,
    ObjectInfo,
    PartInfo,
    StoreError,
    UploadInfo,
    guess_type,
)
from primevod.ports.keys import KeyProvider
from primevod.ports.object_store import FileBackedStore, LifecycleStore, ObjectStore

SEALED_FLAG = "x-primevod-sealed"


class SealedObject(StoreError):
    """A sealed object has no plaintext file to read in place."""

    code = "store.sealed"


class EncryptedObjectStore:
    def __init__(
        self,
        inner: ObjectStore,
        keys: KeyProvider,
        buckets: set[str],
        *,
        chunk_size: int = envelope.DEFAULT_CHUNK,
    ) -> None:
        self.inner = inner
        self.keys = keys
        self.buckets = set(buckets)
        self.chunk_size = chunk_size
        self._sizes: dict[tuple[str, str, str, int], int] = {}  # plaintext sizes by version
        self._sizes_lock = threading.Lock()

    # what is sealed -------------------------------------------------------------------------
    def seals(self, bucket: str) -> bool:
        return bucket in self.buckets

    def is_sealed(self, bucket: str, key: str) -> bool:
        """The object is stored sealed (ports.object_store.SealingStore)."""
        return self.seals(bucket) and self.inner.head(bucket, key).metadata.get(SEALED_FLAG) == "1"

    @staticmethod
    def _flagged(info: ObjectInfo) -> bool:
        return info.metadata.get(SEALED_FLAG) == "1"

    def _flag(self, metadata: dict[str, str] | None) -> dict[str, str]:
        return {**(metadata or {}), SEALED_FLAG: "1"}

    # reading sealed bytes -------------------------------------------------------------------
    @contextlib.contextmanager
    def _reader(self, bucket: str, key: str) -> Iterator[envelope.ReadAt]:
        """Random access to the stored (sealed) bytes: the file itself when the inner store
        has one (one open, preads), else ranged gets."""
        if isinstance(self.inner, FileBackedStore):
            with open(self.inner.path_of(bucket, key), "rb") as src:
                fd = src.fileno()
                yield lambda offset, length: os.pread(fd, length, offset)
            return

        def read_at(offset: int, length: int) -> bytes:
            if length <= 0:
                return b""
            return self.inner.get_range(bucket, key, offset, offset + length - 1)

        yield read_at

    def _segments(self, read_at: envelope.ReadAt, info: ObjectInfo) -> list[envelope.Segment]:
        return envelope.segments(read_at, info.size)

    def _plain_size(self, info: ObjectInfo) -> int:
        cache_key = (info.bucket, info.key, info.etag, info.size)
        with self._sizes_lock:
            if cache_key in self._sizes:
                return self._sizes[cache_key]
        with self._reader(info.bucket, info.key) as read_at:
            size = envelope.plaintext_size(self._segments(read_at, info))
        with self._sizes_lock:
            if len(self._sizes) > 10_000:
                self._sizes.clear()
            self._sizes[cache_key] = size
        return size

    def _plain(self, info: ObjectInfo, size: int | None = None) -> ObjectInfo:
        """The object as callers see it: plaintext size, no flag."""
        if not self._flagged(info):
            return info
        meta = {k: v for k, v in info.metadata.items() if k != SEALED_FLAG}
        plain = self._plain_size(info) if size is None else size
        return info.model_copy(update={"size": plain, "metadata": meta})

    def _open(
        self, bucket: str, key: str, start: int = 0, end: int | None = None
    ) -> Iterator[bytes]:
        info = self.inner.head(bucket, key)
        with self._reader(bucket, key) as read_at:
            segs = self._segments(read_at, info)
            size = envelope.plaintext_size(segs)
            if start >= size and size:
                return
            last = size - 1 if end is None else min(end, size - 1)
            yield from envelope.open_range(self.keys, read_at, segs, start, last)

    # ObjectStore ----------------------------------------------------------------------------
    def ensure_bucket(self, bucket: str, *, versioning: bool = False) -> None:
        self.inner.ensure_bucket(bucket, versioning=versioning)

    def put(
        self,
        bucket: str,
        key: str,
        data: bytes | BinaryIO,
        *,
        content_type: str | None = None,
        metadata: dict[str, str] | None = None,
    ) -> ObjectInfo:
        if not self.seals(bucket):
            return self.inner.put(bucket, key, data, content_type=content_type, metadata=metadata)
        pieces = envelope.seal_segment(self.keys, data, chunk_size=self.chunk_size)
        info = self.inner.put(
            bucket,
            key,
            envelope.SealingReader(pieces),  # type: ignore[arg-type]
            content_type=content_type or guess_type(key),
            metadata=self._flag(metadata),
        )
        size = envelope.plaintext_size_of(info.size - envelope.HEADER_SIZE, self.chunk_size)
        return self._plain(info, size)

    def put_file(
        self,
        bucket: str,
        key: str,
        path: Path,
        *,
        content_type: str | None = None,
        metadata: dict[str, str] | None = None,
    ) -> ObjectInfo:
        if not self.seals(bucket):
            return self.inner.put_file(
                bucket, key, path, content_type=content_type, metadata=metadata
            )
        with open(path, "rb") as src:
            return self.put(
                bucket, key, src, content_type=content_type or guess_type(key), metadata=metadata
            )

    def get(self, bucket: str, key: str) -> bytes:
        if not self.seals(bucket) or not self.is_sealed(bucket, key):
            return self.inner.get(bucket, key)
        return b"".join(self._open(bucket, key))

    def get_range(self, bucket: str, key: str, start: int, end: int) -> bytes:
        if not self.seals(bucket) or not self.is_sealed(bucket, key):
            return self.inner.get_range(bucket, key, start, end)
        if end < start:
            return b""
        return b"".join(self._open(bucket, key, start, end))

    def download(self, bucket: str, key: str, path: Path) -> ObjectInfo:
        if not self.seals(bucket):
            return self.inner.download(bucket, key, path)
        info = self.inner.head(bucket, key)
        if not self._flagged(info):
            return self.inner.download(bucket, key, path)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex[:8]}.tmp")
        try:
            with open(tmp, "wb") as out:
                for piece in self._open(bucket, key):
                    out.write(piece)
            os.replace(tmp, path)
        finally:
            tmp.unlink(missing_ok=True)
        return self._plain(info)

    def head(self, bucket: str, key: str) -> ObjectInfo:
        return self._plain(self.inner.head(bucket, key))

    def exists(self, bucket: str, key: str) -> bool:
        return self.inner.exists(bucket, key)

    def delete(self, bucket: str, key: str) -> None:
        plaintext = False
        if self.seals(bucket):
            with contextlib.suppress(StoreError):
                plaintext = not self._flagged(self.inner.head(bucket, key))
        self.inner.delete(bucket, key)
        if plaintext and isinstance(self.inner, LifecycleStore):
            for old in self.inner.noncurrent_versions(bucket):
                if old.info.key == key and not self._flagged(old.info) and old.info.version_id:
                    with contextlib.suppress(StoreError):
                        self.inner.delete_version(bucket, key, old.info.version_id)

    def delete_prefix(self, bucket: str, prefix: str) -> int:
        count = 0
        for info in list(self.inner.list(bucket, prefix)):
            self.delete(bucket, info.key)
            count += 1
        return count

    def list(self, bucket: str, prefix: str = "") -> Iterator[ObjectInfo]:
        for info in self.inner.list(bucket, prefix):
            if self.seals(bucket) and not info.metadata:
                with contextlib.suppress(StoreError):
                    info = self.inner.head(bucket, info.key)  # listings may omit metadata
            try:
                yield self._plain(info)
            except (OSError, StoreError):
                continue  # deleted while listing

    def list_versions(self, bucket: str, key: str) -> list[ObjectInfo]:
        return [self._strip(v) for v in self.inner.list_versions(bucket, key)]

    @staticmethod
    def _strip(info: ObjectInfo) -> ObjectInfo:
        """Old versions keep their stored size (their plaintext size is not looked up)."""
        meta = {k: v for k, v in info.metadata.items() if k != SEALED_FLAG}
        return info.model_copy(update={"metadata": meta})

    # multipart ------------------------------------------------------------------------------
    def create_multipart(
        self,
        bucket: str,
        key: str,
        *,
        content_type: str | None = None,
        metadata: dict[str, str] | None = None,
    ) -> str:
        if self.seals(bucket):
            metadata = self._flag(metadata)
        return self.inner.create_multipart(
            bucket, key, content_type=content_type, metadata=metadata
        )

    def upload_part(
        self, bucket: str, key: str, upload_id: str, part_number: int, data: bytes
    ) -> PartInfo:
        if not self.seals(bucket):
            return self.inner.upload_part(bucket, key, upload_id, part_number, data)
        sealed = b"".join(
            envelope.seal_segment(self.keys, data, size=len(data), chunk_size=self.chunk_size)
        )
        part = self.inner.upload_part(bucket, key, upload_id, part_number, sealed)
        return part.model_copy(update={"size": len(data)})

    def list_parts(self, bucket: str, key: str, upload_id: str) -> list[PartInfo]:
        parts = self.inner.list_parts(bucket, key, upload_id)
        if not self.seals(bucket):
            return parts
        return [p.model_copy(update={"size": self._part_plain_size(p.size)}) for p in parts]

    def _part_plain_size(self, sealed: int) -> int:
        with contextlib.suppress(envelope.FormatError):
            return envelope.plaintext_size_of(sealed - envelope.HEADER_SIZE, self.chunk_size)
        return sealed  # a part stored before encryption was turned on

    def complete_multipart(
        self, bucket: str, key: str, upload_id: str, parts: list[tuple[int, str]]
    ) -> ObjectInfo:
        return self._plain(self.inner.complete_multipart(bucket, key, upload_id, parts))

    def abort_multipart(self, bucket: str, key: str, upload_id: str) -> None:
        self.inner.abort_multipart(bucket, key, upload_id)

    def list_multipart_uploads(self, bucket: str) -> list[UploadInfo]:
        return self.inner.list_multipart_uploads(bucket)

    # abilities of the inner store -----------------------------------------------------------
    def path_of(self, bucket: str, key: str) -> Path:
        """The file behind a plaintext object (SealedObject for a sealed one)."""
        if not isinstance(self.inner, FileBackedStore):
            raise SealedObject(f"{bucket}/{key} has no file")
        if self.is_sealed(bucket, key):
            raise SealedObject(f"{bucket}/{key} is sealed: read it through the store")
        return self.inner.path_of(bucket, key)

    def make_folder(self, bucket: str, prefix: str) -> None:
        self.inner.make_folder(bucket, prefix)  # type: ignore[attr-defined]

    def set_storage_class(self, bucket: str, key: str, storage_class: str) -> ObjectInfo:
        return self._plain(self._lifecycle().set_storage_class(bucket, key, storage_class))

    def set_tags(self, bucket: str, key: str, tags: dict[str, str]) -> ObjectInfo:
        return self._plain(self._lifecycle().set_tags(bucket, key, tags))

    def noncurrent_versions(self, bucket: str) -> list[NoncurrentVersion]:
        return [
            v.model_copy(update={"info": self._strip(v.info)})
            for v in self._lifecycle().noncurrent_versions(bucket)
        ]

    def delete_version(self, bucket: str, key: str, version_id: str) -> None:
        self._lifecycle().delete_version(bucket, key, version_id)

    def _lifecycle(self) -> LifecycleStore:
        assert isinstance(self.inner, LifecycleStore)
        return self.inner
