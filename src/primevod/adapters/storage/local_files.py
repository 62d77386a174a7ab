"""Small pieces shared by the local object store and its multipart uploads, kept apart so
neither module has to import the other."""

from __future__ import annotations

from datetime import UTC, datetime

CHUNK = 1024 * 1024


def utc_now() -> datetime:
    return datetime.now(UTC)
