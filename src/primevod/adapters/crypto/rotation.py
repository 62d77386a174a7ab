"""Key rotation and its census over sealed files: every file under a folder that starts
with the envelope's magic has its segments' key records read (status) or rewritten in
place under the current master version (rotate). Only the 240-byte key record changes:
the chunks are neither read nor rewritten (see envelope.py for why in place)."""

from __future__ import annotations

import logging
import os
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

from primevod.adapters.crypto import envelope
from primevod.ports.keys import KeyProvider

log = logging.getLogger("primevod.kms")


def _segments_of(fd: int, size: int) -> list[envelope.Segment]:
    return envelope.segments(lambda offset, length: os.pread(fd, length, offset), size)


def sealed_files(root: Path, skip: tuple[str, ...] = ("tmp",)) -> Iterator[Path]:
    """Files under root that begin with the envelope's magic (folders named in `skip`, where
    files are still being written, are left out)."""
    for dirpath, dirs, files in os.walk(root):
        dirs[:] = [d for d in dirs if d not in skip]
        for name in files:
            path = Path(dirpath) / name
            try:
                with open(path, "rb") as src:
                    if envelope.is_sealed(src.read(len(envelope.MAGIC))):
                        yield path
            except OSError:
                continue  # removed while walking


def key_ids_of(path: Path) -> list[str]:
    """The master key id in use by each segment of a sealed file."""
    with open(path, "rb") as src:
        segs = _segments_of(src.fileno(), os.fstat(src.fileno()).st_size)
    return [seg.header.active[1].key_id for seg in segs]


def census(root: Path) -> Counter[str]:
    """How many data keys each master version wraps, over the sealed files under root."""
    counts: Counter[str] = Counter()
    for path in sealed_files(root):
        try:
            counts.update(key_ids_of(path))
        except (OSError, envelope.FormatError) as exc:
            log.warning("kms: %s: %s", path, exc)
    return counts


def rewrap_file(keys: KeyProvider, path: Path) -> int:
    """Re-wrap every segment's data key of a sealed file under the current master, in place
    (a pwrite of the unused key record, then fsync); returns the records rewritten."""
    changed = 0
    with open(path, "r+b") as f:
        fd = f.fileno()
        for seg in _segments_of(fd, os.fstat(fd).st_size):
            change = envelope.rewrap_header(keys, seg.header)
            if change is None:
                continue
            at, record = change
            os.pwrite(fd, record, seg.offset + at)
            changed += 1
        if changed:
            os.fsync(fd)
    return changed


def rewrap_all(keys: KeyProvider, root: Path) -> tuple[int, int, list[str]]:
    """(files, data keys re-wrapped, files that failed) under root."""
    files = records = 0
    failed: list[str] = []
    for path in sealed_files(root):
        try:
            n = rewrap_file(keys, path)
        except Exception as exc:  # one bad file must not stop the others
            log.warning("kms: could not re-wrap %s: %s", path, exc)
            failed.append(str(path))
            continue
        files += 1 if n else 0
        records += n
    return files, records, failed
