"""The object store port: S3's vocabulary, implemented by local folders and by S3 itself."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO, Protocol, runtime_checkable

from primevod.core.storage import NoncurrentVersion, ObjectInfo, PartInfo, UploadInfo


class ObjectStore(Protocol):
    def ensure_bucket(self, bucket: str, *, versioning: bool = False) -> None: ...

    def put(
        self,
        bucket: str,
        key: str,
        data: bytes | BinaryIO,
        *,
        content_type: str | None = None,
        metadata: dict[str, str] | None = None,
    ) -> ObjectInfo: ...

    def put_file(
        self,
        bucket: str,
        key: str,
        path: Path,
        *,
        content_type: str | None = None,
        metadata: dict[str, str] | None = None,
    ) -> ObjectInfo: ...

    def get(self, bucket: str, key: str) -> bytes: ...

    def get_range(self, bucket: str, key: str, start: int, end: int) -> bytes:
        """Bytes start..end inclusive, like an HTTP Range."""
        ...

    def download(self, bucket: str, key: str, path: Path) -> ObjectInfo: ...

    def head(self, bucket: str, key: str) -> ObjectInfo: ...

    def exists(self, bucket: str, key: str) -> bool: ...

    def delete(self, bucket: str, key: str) -> None: ...

    def delete_prefix(self, bucket: str, prefix: str) -> int: ...

    def list(self, bucket: str, prefix: str = "") -> Iterator[ObjectInfo]:
        """Objects under a prefix in key order: key, size, ETag, last modified (user metadata
        only from head())."""
        ...

    def list_versions(self, bucket: str, key: str) -> list[ObjectInfo]: ...

    def create_multipart(
        self,
        bucket: str,
        key: str,
        *,
        content_type: str | None = None,
        metadata: dict[str, str] | None = None,
    ) -> str: ...

    def upload_part(
        self, bucket: str, key: str, upload_id: str, part_number: int, data: bytes
    ) -> PartInfo: ...

    def list_parts(self, bucket: str, key: str, upload_id: str) -> list[PartInfo]: ...

    def complete_multipart(
        self, bucket: str, key: str, upload_id: str, parts: list[tuple[int, str]]
    ) -> ObjectInfo: ...

    def abort_multipart(self, bucket: str, key: str, upload_id: str) -> None: ...

    def list_multipart_uploads(self, bucket: str) -> list[UploadInfo]: ...


# Abilities only some stores have. Callers check with isinstance() (runtime_checkable) and
# fall back to the plain ObjectStore calls.


@runtime_checkable
class FileBackedStore(Protocol):
    def path_of(self, bucket: str, key: str) -> Path:
        """The file behind an object (raises ObjectNotFound): read it in place, no copy."""
        ...


@runtime_checkable
class PresignedPartStore(Protocol):
    def presign_upload_part(
        self, bucket: str, key: str, upload_id: str, part_number: int, expires_in: int
    ) -> str:
        """A URL a browser PUTs one part's bytes to, straight into the store."""
        ...


@runtime_checkable
class FolderStore(Protocol):
    def make_folder(self, bucket: str, prefix: str) -> None:
        """A prefix as an (empty) folder users can drop files into."""
        ...


@runtime_checkable
class LifecycleStore(Protocol):
    """What the local lifecycle engine needs beyond ObjectStore: storage classes, tags and
    old versions (S3 keeps these itself and applies a bucket's lifecycle rules on its own)."""

    def set_storage_class(self, bucket: str, key: str, storage_class: str) -> ObjectInfo:
        """Move the object to the class's tier; its data, metadata and age stay the same."""
        ...

    def set_tags(self, bucket: str, key: str, tags: dict[str, str]) -> ObjectInfo:
        """Replace the object's tags (S3's PutObjectTagging)."""
        ...

    def noncurrent_versions(self, bucket: str) -> list[NoncurrentVersion]: ...

    def delete_version(self, bucket: str, key: str, version_id: str) -> None:
        """Remove one noncurrent version for good (raises ObjectNotFound)."""
        ...


@runtime_checkable
class SealingStore(Protocol):
    """A store that encrypts some objects at rest: their files hold no plaintext."""

    def is_sealed(self, bucket: str, key: str) -> bool: ...


def in_place_path(store: object, bucket: str, key: str) -> Path | None:
    """The plaintext file behind an object, to read in place (no copy), or None: read it
    through the store (not file-backed, or the object is sealed at rest)."""
    if not isinstance(store, FileBackedStore):
        return None
    if isinstance(store, SealingStore) and store.is_sealed(bucket, key):
        return None
    return store.path_of(bucket, key)
