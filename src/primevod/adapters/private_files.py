"""Secret files made once: written whole under a temporary name (0600, synced), then linked
into place only if no other thread or process made the file first. A reader therefore never
sees a file half written, which a plain O_EXCL create (an empty file first, the bytes after)
would show to a reader arriving in between."""

from __future__ import annotations

import contextlib
import os
import secrets
from pathlib import Path


def create_exclusive(path: Path, data: bytes) -> bool:
    """Make `path` with `data` unless it exists; True when this call made it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        try:
            os.link(tmp, path)  # atomic, and fails when the name is taken
        except FileExistsError:
            return False
        return True
    finally:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
