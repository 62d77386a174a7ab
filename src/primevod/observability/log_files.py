"""The log files the product writes (the edge's access log, and the logs with `log_file`):
appended line by line by any number of processes, rotated when a line would take the file
past its size or when it was last written on an earlier day (UTC), and the rotated files
removed once older than their retention.

A rotated file is `<name>.<its last write, UTC, YYYYmmddTHHMMSSZ>` beside the live one. The
rotation happens under a lock file (`.<name>.lock`), so with several processes writing the
same file exactly one renames it; each then notices the live file changed and reopens it."""

from __future__ import annotations

import fcntl
import logging
import os
import re
import time
from datetime import datetime
from pathlib import Path
from typing import TextIO

DAY = 86400
_ROTATED = re.compile(r"^\.\d{8}T\d{6}Z(\.\d+)?$")


def rotated_name(path: Path, last_write: float) -> Path:
    stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime(last_write))
    candidate = path.with_name(f"{path.name}.{stamp}")
    n = 0
    while candidate.exists():
        n += 1
        candidate = path.with_name(f"{path.name}.{stamp}.{n}")
    return candidate


def rotated_files(path: Path) -> list[Path]:
    """The rotated files of a log, oldest first."""
    found = [
        p
        for p in path.parent.glob(f"{path.name}.*")
        if _ROTATED.match(p.name[len(path.name) :]) and p.is_file()
    ]
    return sorted(found, key=lambda p: p.stat().st_mtime)


def prune_rotated(path: Path, before: datetime) -> int:
    """Remove the rotated files of a log last written before `before`; the live file stays."""
    cutoff = before.timestamp()
    removed = 0
    for old in rotated_files(path):
        try:
            if old.stat().st_mtime < cutoff:
                old.unlink()
                removed += 1
        except FileNotFoundError:
            continue  # another process pruned it
    return removed


class RotatingLogFile(logging.Handler):
    def __init__(self, path: Path, max_bytes: int) -> None:
        super().__init__()
        self.path = Path(path)
        self.max_bytes = max(1, int(max_bytes))
        self._stream: TextIO | None = None
        self._opened: tuple[int, int] | None = None  # (device, inode) of the open file
        self.path.parent.mkdir(parents=True, exist_ok=True)

    def _due(self, stat: os.stat_result, incoming: int, now: float) -> bool:
        if not stat.st_size:
            return False
        too_big = stat.st_size + incoming > self.max_bytes
        return too_big or int(stat.st_mtime // DAY) < int(now // DAY)

    def _rotate(self, incoming: int, now: float) -> None:
        lock = self.path.with_name(f".{self.path.name}.lock")
        with open(lock, "a") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)  # released when the file closes
            try:
                stat = os.stat(self.path)
            except FileNotFoundError:
                return
            if self._due(stat, incoming, now):  # not already rotated by another process
                os.rename(self.path, rotated_name(self.path, stat.st_mtime))

    def _open(self) -> TextIO:
        if self._stream is not None:
            self._stream.close()
        self._stream = open(self.path, "a", encoding="utf-8")  # noqa: SIM115  (kept open)
        stat = os.fstat(self._stream.fileno())
        self._opened = (stat.st_dev, stat.st_ino)
        return self._stream

    def emit(self, record: logging.LogRecord) -> None:
        try:
            line = self.format(record) + "\n"
            incoming = len(line.encode("utf-8"))
            now = time.time()
            try:
                stat: os.stat_result | None = os.stat(self.path)
            except FileNotFoundError:
                stat = None
            if stat is not None and self._due(stat, incoming, now):
                self._rotate(incoming, now)
                stat = None
            stream = self._stream
            if stream is None or stat is None or (stat.st_dev, stat.st_ino) != self._opened:
                stream = self._open()
            stream.write(line)
            stream.flush()
        except Exception:
            self.handleError(record)

    def close(self) -> None:
        self.acquire()
        try:
            if self._stream is not None:
                self._stream.close()
                self._stream = None
        finally:
            self.release()
        super().close()
