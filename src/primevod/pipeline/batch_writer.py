"""Writes that can wait a moment, gathered and made in batches: the caller hands items over
and returns at once; a thread writes what has gathered every `flush_seconds` in one call (one
transaction), in the order the items came. A failed write keeps its batch, in front, for the
next one. With `max_pending`, a writer that cannot keep up refuses new items (the caller
answers 503) rather than growing without end. `stop` (at exit) writes what is pending.

Two users: player beacons (api/beacons.py) and the API's audit records (pipeline/audit.py),
each of which used to cost a commit per request."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from typing import Generic, TypeVar

log = logging.getLogger("primevod.batches")
T = TypeVar("T")


class BatchWriter(Generic[T]):
    def __init__(
        self,
        write: Callable[[list[T]], object],
        *,
        name: str,
        flush_seconds: float = 0.5,
        max_pending: int | None = None,
    ) -> None:
        self._write = write
        self._name = name
        self._flush_seconds = flush_seconds
        self._max_pending = max_pending
        self._pending: list[T] = []
        self._lock = threading.Lock()  # guards _pending and _thread
        self._writing = threading.Lock()  # one batch at a time: the order holds
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def offer(self, items: Sequence[T]) -> bool:
        """Queue items for the next write; False (nothing queued) when the writer is full."""
        with self._lock:
            if (
                self._max_pending is not None
                and len(self._pending) + len(items) > self._max_pending
            ):
                return False
            self._pending.extend(items)
            started = self._thread is not None
        if not started:
            self.start()
        return True

    def flush(self) -> int:
        """Write everything queued so far; how many items went."""
        with self._writing:
            with self._lock:
                batch, self._pending = self._pending, []
            if not batch:
                return 0
            try:
                self._write(batch)
            except Exception:  # the database is away: keep them, in front, for the next try
                log.exception("%s: %d not written yet; retrying", self._name, len(batch))
                with self._lock:
                    self._pending[:0] = batch
                return 0
            return len(batch)

    def start(self) -> None:
        with self._lock:
            if self._thread is not None:
                return
            self._thread = threading.Thread(target=self._run, name=self._name, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(self._flush_seconds):
            self.flush()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
        self.flush()

    @property
    def pending(self) -> int:
        return len(self._pending)
