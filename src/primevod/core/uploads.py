"""Upload sessions: what a browser may send, how it is cut into parts, and the signature that
authorises one part PUT (the embedded default's stand-in for an S3 presigned URL). Pure."""

from __future__ import annotations

import hashlib
import hmac
import math
import unicodedata
from datetime import datetime
from pathlib import PurePosixPath
from typing import Any

from pydantic import BaseModel, Field

from primevod.core.constant_time import equal
from primevod.core.storage import MAX_PARTS, MIN_PART_SIZE

DEFAULT_PART_SIZE = 16 * 1024 * 1024
VIDEO_EXTENSIONS = {
    ".mp4",
    ".m4v",
    ".mov",
    ".mkv",
    ".webm",
    ".avi",
    ".mxf",
    ".ts",
    ".mts",
    ".m2ts",
    ".mpg",
    ".mpeg",
    ".wmv",
    ".flv",
    ".3gp",
    ".ogv",
    ".dv",
    ".y4m",
    ".m4a",
    ".mp3",
    ".wav",
    ".flac",
    ".aac",
    ".ogg",
    ".opus",
}
ALLOWED_TYPES = ("video/", "audio/", "application/octet-stream", "application/mxf")


class UploadRejected(ValueError):
    """An upload request that cannot be accepted; the message says why, in plain words."""


class UploadSession(BaseModel):
    upload_id: str
    key: str
    asset_id: str
    filename: str
    content_type: str
    size: int
    part_size: int
    max_parts: int
    metadata: dict[str, Any] = Field(default_factory=dict)
    status: str = "open"  # open, completed, aborted, expired
    created_at: datetime
    expires_at: datetime
    execution_id: str | None = None
    owner: str | None = Field(
        None, description="the id of the API key that began it (none: made before owners)"
    )


class UploadPage(BaseModel):
    items: list[UploadSession]
    next_cursor: str | None = None


def clean_filename(name: str) -> str:
    """The last path segment, normalised, without control or path characters."""
    base = PurePosixPath(name.replace("\\", "/")).name
    base = unicodedata.normalize("NFC", base)
    base = "".join(c for c in base if c.isprintable() and c not in '/\\:*?"<>|')
    base = base.strip(" .")
    if not base:
        raise UploadRejected("the file name is empty")
    return base[:200]


def check_upload(filename: str, content_type: str, size: int, max_size: int) -> str:
    """Validate an upload request; returns the cleaned file name."""
    name = clean_filename(filename)
    if size <= 0:
        raise UploadRejected(f"{name} is empty (0 bytes)")
    if size > max_size:
        raise UploadRejected(
            f"{name} is {size / 2**30:.1f} GiB; the limit is {max_size / 2**30:.1f} GiB"
        )
    suffix = PurePosixPath(name).suffix.lower()
    type_ok = content_type.lower().startswith(ALLOWED_TYPES)
    if not type_ok or (
        content_type.lower() == "application/octet-stream" and suffix not in VIDEO_EXTENSIONS
    ):
        raise UploadRejected(f"{name} ({content_type or 'no type'}) is not a video or audio file")
    return name


def plan_parts(
    size: int, min_part_size: int = MIN_PART_SIZE, preferred: int = DEFAULT_PART_SIZE
) -> tuple[int, int]:
    """(part size, number of parts): the preferred size, grown so no more than 10,000 parts
    are needed, never below the minimum; rounded up to a whole MiB above 1 MiB."""
    part = max(min_part_size, preferred, math.ceil(size / MAX_PARTS))
    if part > 1024 * 1024:
        part = math.ceil(part / (1024 * 1024)) * 1024 * 1024
    return part, max(1, math.ceil(size / part))


def part_signature(secret: bytes, upload_id: str, key: str, part_number: int, expires: int) -> str:
    message = f"{upload_id}\n{key}\n{part_number}\n{expires}".encode()
    return hmac.new(secret, message, hashlib.sha256).hexdigest()


def check_part_signature(
    secret: bytes,
    upload_id: str,
    key: str,
    part_number: int,
    expires: int,
    signature: str,
    now: float,
) -> str | None:
    """None when the signature is valid and current, else the reason it is not."""
    if now > expires:
        return "the part URL has expired"
    expected = part_signature(secret, upload_id, key, part_number, expires)
    if not equal(expected, signature or ""):
        return "the part URL signature does not match"
    return None
