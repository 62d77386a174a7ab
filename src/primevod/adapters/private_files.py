"""Secret files (0600), never seen half written: the bytes go to a temporary name first
(synced), then take the file's name in one step. `create_exclusive` makes a file only if no
other thread or process made it first (a plain O_EXCL create would show an empty file to a
reader arriving in between); `write_private` replaces one."""

from __future__ import annotations

import contextlib
import os
import secrets
from collections.abc import Iterator
from pathlib import Path


@contextlib.contextmanager
def _written(path: Path, data: bytes) -> Iterator[Path]:
    """`data` in a synced 0600 temporary file beside `path`, removed on the way out."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        yield tmp
    finally:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()


def create_exclusive(path: Path, data: bytes) -> bool:
    """Make `path` with `data` unless it exists; True when this call made it."""
    with _written(path, data) as tmp:
        try:
            os.link(tmp, path)  # atomic, and fails when the name is taken
        except FileExistsError:
            return False
        return True


def write_private(path: Path, data: bytes) -> None:
    """Replace `path` with `data` atomically."""
    with _written(path, data) as tmp:
        os.replace(tmp, path)
