"""Beacons to the catalog in batches: the API hands each accepted beacon's rows to the sink
and answers at once; a thread writes what has gathered every `flush_seconds` (one INSERT of
many rows), so a burst of players costs a few transactions a second, not one per beacon. A
sink that cannot keep up refuses (the caller answers 503) rather than growing without end;
what is pending at shutdown is written before the process ends."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence

log = logging.getLogger("primevod.beacons")
Rows = Sequence[tuple[object, ...]]


class BeaconSink:
    def __init__(
        self,
        write: Callable[[Rows], int],
        *,
        flush_seconds: float = 0.5,
        max_pending: int = 200_000,
    ) -> None:
        self._write = write
        self._flush_seconds = flush_seconds
        self._max_pending = max_pending
        self._pending: list[tuple[object, ...]] = []
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def offer(self, rows: Rows) -> bool:
        """Queue rows for the next flush; False (nothing queued) when the sink is full."""
        with self._lock:
            if len(self._pending) + len(rows) > self._max_pending:
                return False
            self._pending.extend(rows)
        return True

    def flush(self) -> int:
        with self._lock:
            batch, self._pending = self._pending, []
        if not batch:
            return 0
        try:
            return self._write(batch)
        except Exception:  # the database is away: keep the rows for the next flush
            log.exception("could not store %d beacon events; retrying", len(batch))
            with self._lock:
                self._pending[:0] = batch[: self._max_pending - len(self._pending)]
            return 0

    def start(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="beacon-sink", daemon=True)
            self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(self._flush_seconds):
            self.flush()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
            self._thread = None
        self.flush()

    @property
    def pending(self) -> int:
        return len(self._pending)
