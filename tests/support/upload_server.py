"""A test server for the tests that upload through it: parts of PART bytes, so small test
files still span several parts, and one encode at a time."""

from __future__ import annotations

from pathlib import Path

from support.server import Server

PART = 64 * 1024  # the test server's minimum and offered part size


def upload_server(home: Path) -> Server:
    return Server(
        home,
        PRIMEVOD_UPLOAD_MIN_PART_SIZE=str(PART),
        PRIMEVOD_UPLOAD_PART_SIZE=str(PART),
        PRIMEVOD_ENCODE_CONCURRENCY="1",
    )
