"""Object storage vocabulary shared by every store: object and part descriptions, the errors,
and the rules for bucket names and object keys (the same on disk and on S3)."""

from __future__ import annotations

import mimetypes
import re
from datetime import datetime
from pathlib import PurePosixPath

from pydantic import BaseModel, Field

MIN_PART_SIZE = 5 * 1024 * 1024  # S3: every part but the last is at least 5 MiB
MAX_PARTS = 10_000
MAX_KEY_BYTES = 1024


class StoreError(Exception):
    """Base of object store errors; `code` is stable."""

    code = "store.error"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class ObjectNotFound(StoreError):
    code = "store.not_found"


class InvalidKey(StoreError):
    code = "store.invalid_key"


class UploadNotFound(StoreError):
    code = "store.upload_not_found"


class InvalidPart(StoreError):
    code = "store.invalid_part"


class ObjectInfo(BaseModel):
    bucket: str
    key: str
    size: int
    etag: str
    content_type: str = "application/octet-stream"
    metadata: dict[str, str] = Field(default_factory=dict)
    last_modified: datetime
    version_id: str | None = None
    storage_class: str = Field("STANDARD", description="S3's name of the object's class")
    tags: dict[str, str] = Field(default_factory=dict, description="S3 object tags")


class NoncurrentVersion(BaseModel):
    """An old version of an object that a newer one (or a delete) replaced, and since when:
    the start of its NoncurrentVersionExpiration days."""

    info: ObjectInfo
    noncurrent_since: datetime


class PartInfo(BaseModel):
    part_number: int
    etag: str
    size: int


class UploadInfo(BaseModel):
    bucket: str
    key: str
    upload_id: str
    initiated: datetime


# the media types of a package, whatever the machine's own MIME table says
MEDIA_TYPES = {
    ".m3u8": "application/vnd.apple.mpegurl",
    ".mpd": "application/dash+xml",
    ".m4s": "video/iso.segment",
    ".vtt": "text/vtt",
}


def guess_type(key: str) -> str:
    """The Content-Type an object of this key is stored and served with."""
    suffix = PurePosixPath(key).suffix.lower()
    return MEDIA_TYPES.get(suffix) or mimetypes.guess_type(key)[0] or "application/octet-stream"


_BUCKET = re.compile(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")


def validate_bucket(bucket: str) -> str:
    if not _BUCKET.match(bucket) or ".." in bucket:
        raise InvalidKey(f"invalid bucket name {bucket!r}")
    return bucket


def validate_key(key: str) -> str:
    """Keys are relative, '/'-separated paths: no '..' or '.' segment, no empty segment, no
    leading '/', no backslash, no NUL or other control character, at most 1024 bytes."""
    if not isinstance(key, str) or not key:
        raise InvalidKey("object key is empty")
    if len(key.encode("utf-8")) > MAX_KEY_BYTES:
        raise InvalidKey("object key is longer than 1024 bytes")
    if any(ord(c) < 32 or ord(c) == 127 for c in key):
        raise InvalidKey("object key contains a control character")
    if key.startswith("/") or "\\" in key:
        raise InvalidKey(f"object key {key!r} must be relative and use '/'")
    parts = key.split("/")
    if any(p in ("", ".", "..") for p in parts[:-1]) or parts[-1] in (".", ".."):
        raise InvalidKey(f"object key {key!r} has an empty, '.' or '..' segment")
    if parts[-1] == "":
        raise InvalidKey(f"object key {key!r} ends with '/'")
    return key


def validate_prefix(prefix: str) -> str:
    if prefix == "":
        return prefix
    if prefix.endswith("/"):
        validate_key(prefix[:-1])
    else:
        validate_key(prefix)
    return prefix


def multipart_etag(part_md5s: list[bytes]) -> str:
    """S3's ETag of a multipart object: MD5 of the concatenated part MD5s, dash, part count."""
    import hashlib

    return f'"{hashlib.md5(b"".join(part_md5s)).hexdigest()}-{len(part_md5s)}"'
